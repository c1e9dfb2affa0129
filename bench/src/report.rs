//! Figures, their goals and baselines; the terminal table, the JSON of a run, and the results
//! section of BENCHMARKS.md.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use serde::Serialize;

use crate::{Args, Usage};

#[derive(Debug, Clone, Copy, Serialize)]
pub enum Goal {
    AtMost(f64),
    AtLeast(f64),
}

/// A goal as the tables print it. A goal computed from a baseline (0.3× its rate) is rounded
/// to three decimals, so that it does not print the float's noise (`258679.81999999998`).
fn goal_text(goal: Option<Goal>, unit: &str) -> String {
    let (sign, bound) = match goal {
        Some(Goal::AtMost(limit)) => ("≤", limit),
        Some(Goal::AtLeast(floor)) => ("≥", floor),
        None => return String::new(),
    };
    let rounded = format!("{bound:.3}");
    let bound = rounded.trim_end_matches('0').trim_end_matches('.');
    format!("{sign} {bound} {unit}")
}

#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    pub name: String,
    pub value: f64,
    pub unit: &'static str,
    pub goal: Option<Goal>,
    /// The same measure on the baseline, where one applies.
    pub baseline: Option<f64>,
}

impl Figure {
    pub fn new(name: impl Into<String>, value: f64, unit: &'static str) -> Self {
        Self {
            name: name.into(),
            value,
            unit,
            goal: None,
            baseline: None,
        }
    }

    pub fn goal(mut self, goal: Goal) -> Self {
        self.goal = Some(goal);
        self
    }

    pub fn baseline(mut self, baseline: f64) -> Self {
        self.baseline = Some(baseline);
        self
    }

    pub(crate) fn met(&self) -> Option<bool> {
        self.goal.map(|goal| match goal {
            Goal::AtMost(limit) => self.value <= limit,
            Goal::AtLeast(floor) => self.value >= floor,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    pub id: &'static str,
    pub title: &'static str,
    pub figures: Vec<Figure>,
    pub notes: Vec<String>,
    /// What the baseline's server used, where the baseline is a server process of its own.
    pub baseline_server: Option<Usage>,
}

/// Latencies of one kind, summarised as percentiles (milliseconds).
pub fn percentiles(samples: &mut [Duration]) -> [f64; 4] {
    samples.sort_unstable();
    let at = |fraction: f64| {
        let index = ((samples.len() as f64 * fraction).ceil() as usize).clamp(1, samples.len()) - 1;
        samples[index].as_secs_f64() * 1000.0
    };
    [at(0.50), at(0.90), at(0.99), at(1.0)]
}

impl ScenarioReport {
    /// Adds what `process` used over the scenario (its setup included), beside the baseline
    /// server's use where there is one.
    pub(crate) fn add_usage(&mut self, process: &str, usage: Usage) {
        let megabytes = |bytes: u64| bytes as f64 / 1e6;
        let mut cpu = Figure::new(format!("{process}: CPU time"), usage.cpu_seconds, "s");
        let mut peak = Figure::new(
            format!("{process}: peak resident memory"),
            megabytes(usage.peak_rss),
            "MB",
        );
        if let Some(baseline) = self.baseline_server {
            cpu = cpu.baseline(baseline.cpu_seconds);
            peak = peak.baseline(megabytes(baseline.peak_rss));
        }
        self.figures.extend([cpu, peak]);
    }

    fn table(&self) -> String {
        let mut table = String::from(
            "| figure | value | baseline | ratio | goal | met |\n|---|---|---|---|---|---|\n",
        );
        for figure in &self.figures {
            let baseline = figure
                .baseline
                .map(|b| format!("{b:.3} {}", figure.unit))
                .unwrap_or_default();
            let ratio = figure
                .baseline
                .filter(|&b| b != 0.0)
                .map(|b| format!("{:.2}×", figure.value / b))
                .unwrap_or_default();
            let goal = goal_text(figure.goal, figure.unit);
            let met = match figure.met() {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "",
            };
            let _ = writeln!(
                table,
                "| {} | {:.3} {} | {baseline} | {ratio} | {goal} | {met} |",
                figure.name, figure.value, figure.unit
            );
        }
        table
    }

    pub fn print(&self) {
        println!("\n{} — {}\n\n{}", self.id, self.title, self.table());
        for note in &self.notes {
            println!("  {note}");
        }
    }
}

const RESULTS_START: &str = "<!-- bench results: start -->";
const RESULTS_END: &str = "<!-- bench results: end -->";

/// How the results section lays the reports out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// A table of figures per report (BENCHMARKS.md).
    TablePerReport,
    /// One table, a row per report and a column per figure, then every report's notes; the
    /// reports must have the same figures (RELIABILITY.md).
    RowPerReport,
}

/// Writes the run's JSON and replaces the results section of `markdown`.
pub(crate) fn save(
    reports: &[ScenarioReport],
    args: &Args,
    markdown: &Path,
    layout: Layout,
) -> anyhow::Result<()> {
    let now = Utc::now();
    std::fs::create_dir_all(&args.results_dir)?;
    let json_path = args
        .results_dir
        .join(format!("{}.json", now.format("%Y%m%dT%H%M%SZ")));
    std::fs::write(&json_path, serde_json::to_string_pretty(reports)?)?;
    println!("\nresults: {}", json_path.display());

    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .unwrap_or_default();
    let mut section = format!(
        "{RESULTS_START}\n## Latest results\n\nMeasured {} on {} (commit {}) with `cargo run --release -p bench -- {}{}`.\n",
        now.format("%Y-%m-%d %H:%M UTC"),
        machine(),
        commit.trim(),
        args.scenarios.join(" "),
        if args.quick { " --quick" } else { "" },
    );
    match layout {
        Layout::TablePerReport => {
            for report in reports {
                let _ = write!(
                    section,
                    "\n### {} — {}\n\n{}",
                    report.id,
                    report.title,
                    report.table()
                );
                for note in &report.notes {
                    let _ = writeln!(section, "\n{note}");
                }
            }
        }
        Layout::RowPerReport => {
            let _ = write!(section, "\n{}", rows(reports));
            for report in reports {
                let _ = writeln!(
                    section,
                    "\n**{} — {}.** {}",
                    report.id,
                    report.title,
                    report.notes.join(" ")
                );
            }
        }
    }
    section.push_str(RESULTS_END);

    let existing = std::fs::read_to_string(markdown).unwrap_or_else(|_| "# Benchmarks\n".into());
    let updated = match (existing.find(RESULTS_START), existing.find(RESULTS_END)) {
        (Some(start), Some(end)) => format!(
            "{}{section}{}",
            &existing[..start],
            &existing[end + RESULTS_END.len()..]
        ),
        _ => format!("{}\n{section}\n", existing.trim_end()),
    };
    std::fs::write(markdown, updated).with_context(|| format!("writing {}", markdown.display()))?;
    Ok(())
}

/// One table of every report: a row each, a column per figure of the first, then the goals.
fn rows(reports: &[ScenarioReport]) -> String {
    let Some(first) = reports.first() else {
        return String::new();
    };
    let mut table = String::from("| |");
    for figure in &first.figures {
        let _ = write!(table, " {} |", figure.name);
    }
    table.push_str("\n|---|");
    table.push_str(&"---|".repeat(first.figures.len()));
    for report in reports {
        let _ = write!(table, "\n| {} {} |", report.id, report.title);
        for figure in &report.figures {
            let value = if figure.value.is_infinite() {
                "never".to_owned()
            } else if figure.unit.is_empty() {
                format!("{:.0}", figure.value)
            } else {
                format!("{:.2} {}", figure.value, figure.unit)
            };
            match figure.met() {
                Some(false) => {
                    let _ = write!(table, " **{value}** |");
                }
                _ => {
                    let _ = write!(table, " {value} |");
                }
            }
        }
    }
    table.push_str("\n| goal |");
    for figure in &first.figures {
        let goal = goal_text(figure.goal, figure.unit);
        let _ = write!(table, " {} |", goal.trim_end());
    }
    table.push('\n');
    table
}

fn machine() -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cores} cores ({cpu})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_goal_prints_without_the_floats_noise_or_needless_decimals() {
        let from_a_baseline = 0.3 * 862_266.066_666_666_6;
        assert_eq!(
            goal_text(Some(Goal::AtLeast(from_a_baseline)), "/s"),
            "≥ 258679.82 /s"
        );
        assert_eq!(goal_text(Some(Goal::AtMost(100.0)), "ms"), "≤ 100 ms");
        assert_eq!(goal_text(Some(Goal::AtMost(1.2)), "×"), "≤ 1.2 ×");
        assert_eq!(goal_text(None, "ms"), "");
    }
}

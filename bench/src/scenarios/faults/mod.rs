//! Faults under load: the roles as separate `chat` processes (two command APIs, a query API,
//! two projectors, two fan-out nodes), subscribers on both nodes, posts through REST on both
//! command APIs and sends on sockets, and meanwhile, one after the other: a fan-out node killed,
//! a command API killed during requests, a projector killed mid-batch, the broker cut off, every
//! PostgreSQL backend terminated. After each, with the load paused: every acknowledged message
//! must have reached every subscriber of its room exactly once and in order, a message never
//! acknowledged must be stored once or not at all, and `chat verify` must pass; and delivery
//! must have resumed within seconds of the fault's end.

mod cluster;
mod fault;
mod judge;
mod ledger;
mod load;
mod senders;
mod subscribers;

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context as _;
use tokio::time::Instant;

use crate::{Figure, Goal, ScenarioReport};
use cluster::{Cluster, Layout};
use fault::{Context, Fault};
use judge::Verdict;
use load::Load;
use senders::GIVE_UP;

/// The size and pace of a run.
#[derive(Debug, Clone, Copy)]
struct Shape {
    rooms: usize,
    subscribers_per_room: usize,
    /// Messages a second in all, half through REST, half on sockets.
    rate: f64,
    /// Load before each fault.
    before: Duration,
    /// Load after each fault's end (and at least this long after the cluster is whole again).
    after: Duration,
    /// How long delivery may take to resume once a fault is over. The full run holds the
    /// product's promise, 3 s; the quick one runs debug builds inside `make test` on a shared
    /// machine, where it checks that delivery resumes at all and loses nothing.
    resume_goal: Duration,
    down_for: Duration,
    outage: Duration,
    layout: Layout,
}

impl Shape {
    fn of(quick: bool) -> Self {
        let layout = Layout {
            command_apis: 2,
            fanouts: 2,
            projectors: 2,
            pool_commands: if quick { 2 } else { 4 },
            pool_queries: 2,
            pool_projector: 2,
            pool_fanout: 2,
        };
        if quick {
            Self {
                rooms: 4,
                subscribers_per_room: 10,
                rate: 40.0,
                before: Duration::from_secs(2),
                after: Duration::from_secs(4),
                down_for: Duration::from_secs(1),
                outage: Duration::from_secs(3),
                resume_goal: Duration::from_secs(10),
                layout,
            }
        } else {
            Self {
                rooms: 10,
                subscribers_per_room: 20,
                rate: 200.0,
                before: Duration::from_secs(5),
                after: Duration::from_secs(8),
                down_for: Duration::from_secs(2),
                outage: Duration::from_secs(10),
                resume_goal: Duration::from_secs(3),
                layout,
            }
        }
    }
}

/// How long, once the senders settled, every acknowledged message may take to reach every
/// subscriber.
const DRAIN_WITHIN: Duration = Duration::from_secs(30);

pub async fn run(quick: bool) -> anyhow::Result<Vec<ScenarioReport>> {
    let shape = Shape::of(quick);
    let mut cluster = Cluster::start(shape.layout).await?;
    println!(
        "faults: {} processes on {}",
        cluster.processes.len(),
        cluster.database
    );
    let outcome = exercise(&mut cluster, shape).await;
    let passed = outcome.as_ref().is_ok_and(|reports| check(reports).is_ok());
    // The processes' logs are kept only when something went wrong: they tell what.
    let stopped = cluster.stop(!passed).await;
    let reports = outcome?;
    stopped?;
    Ok(reports)
}

async fn exercise(cluster: &mut Cluster, shape: Shape) -> anyhow::Result<Vec<ScenarioReport>> {
    let load = load::start(cluster, shape).await?;
    let mut reports = Vec::new();
    for (phase, fault) in Fault::ALL.into_iter().enumerate() {
        println!("faults: {}", fault.title());
        let report = endure(cluster, shape, &load, phase, fault).await;
        match report {
            Ok(report) => {
                report.print();
                reports.push(report);
            }
            Err(error) => {
                load.stop.cancel();
                return Err(error.context(format!("during {}", fault.title())));
            }
        }
    }
    load.stop.cancel();
    load.tasks.close();
    load.tasks.wait().await;
    Ok(reports)
}

/// One fault under load, then the judgement of the messages sent meanwhile.
async fn endure(
    cluster: &mut Cluster,
    shape: Shape,
    load: &Load,
    phase: usize,
    fault: Fault,
) -> anyhow::Result<ScenarioReport> {
    let ends_before = load.socket_ends.counts();
    load.phase.send_replace(Some(phase));
    tokio::time::sleep(shape.before).await;
    let context = Context {
        in_flight: &load.in_flight,
        go_home: &load.go_home,
        down_for: shape.down_for,
        outage: shape.outage,
    };
    let applied = fault.apply(cluster, &context).await?;
    tokio::time::sleep_until((applied.ended + shape.after).max(applied.whole + shape.after / 2))
        .await;
    load.phase.send_replace(None);

    let settle_by = Instant::now() + GIVE_UP + Duration::from_secs(5);
    while load.ledger.pending() > 0 && Instant::now() < settle_by {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let drain_by = Instant::now() + DRAIN_WITHIN;
    while !judge::all_delivered(&load.ledger, &load.inboxes) && Instant::now() < drain_by {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let verdict = judge::judge(
        phase,
        &load.ledger,
        &load.inboxes,
        &cluster.pool,
        applied.ended,
    )
    .await?;
    let (verified, verify_output) = cluster.verify().await?;
    let mut notes = applied.notes;
    notes.push(socket_ends_note(&ends_before, &load.socket_ends.counts()));
    if !verified {
        notes.push(format!(
            "`chat verify` failed:\n\n```\n{}\n```",
            verify_output.trim()
        ));
    }
    Ok(report(
        phase,
        fault,
        &verdict,
        verified,
        shape.resume_goal,
        notes,
    ))
}

/// What ended subscribers' sockets during the phase.
fn socket_ends_note(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> String {
    let ends: Vec<String> = after
        .iter()
        .map(|(why, count)| (why, count - before.get(why).copied().unwrap_or(0)))
        .filter(|(_, count)| *count > 0)
        .map(|(why, count)| format!("{count} {why}"))
        .collect();
    if ends.is_empty() {
        "No subscriber's socket ended.".into()
    } else {
        format!(
            "Subscribers' sockets that ended and resumed with `since`: {}.",
            ends.join(", ")
        )
    }
}

fn report(
    phase: usize,
    fault: Fault,
    verdict: &Verdict,
    verified: bool,
    resume_goal: Duration,
    notes: Vec<String>,
) -> ScenarioReport {
    let count = |name: &str, value: u64| Figure::new(name, value as f64, "");
    let none = Goal::AtMost(0.0);
    let resumed = verdict
        .resumed_after
        .map_or(f64::INFINITY, |after| after.as_secs_f64());
    ScenarioReport {
        id: ["F1", "F2", "F3", "F4", "F5"][phase],
        title: fault.title(),
        figures: vec![
            count("acknowledged", verdict.acknowledged),
            count("deliveries expected", verdict.expected),
            count("delivered", verdict.delivered),
            count("duplicated", verdict.duplicated).goal(none),
            count("missing", verdict.missing).goal(none),
            count("out of order", verdict.out_of_order).goal(none),
            count("unacknowledged", verdict.unacknowledged),
            count("of those stored", verdict.unacknowledged_stored),
            count("stored twice", verdict.stored_twice).goal(none),
            Figure::new("delivery resumed after", resumed, "s")
                .goal(Goal::AtMost(resume_goal.as_secs_f64())),
            count("chat verify failed", u64::from(!verified)).goal(none),
        ],
        notes,
        baseline_server: None,
    }
}

/// Fails when any fault lost, duplicated or reordered an acknowledged message, stored one twice,
/// left the read tables different from a rebuild, or delivery did not resume in time.
pub fn check(reports: &[ScenarioReport]) -> anyhow::Result<()> {
    let failed: Vec<String> = reports
        .iter()
        .flat_map(|report| {
            report
                .figures
                .iter()
                .filter(|figure| figure.met() == Some(false))
                .map(move |figure| {
                    format!(
                        "{} {}: {} = {}",
                        report.id, report.title, figure.name, figure.value
                    )
                })
        })
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(anyhow::anyhow!(failed.join("; "))).context("faults broke a promise")
}

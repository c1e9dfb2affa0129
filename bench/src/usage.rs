//! What a server process used, read from `/proc`: CPU time (user and system) and memory.

use anyhow::Context;
use serde::Serialize;

/// Clock ticks per second in `/proc/<pid>/stat`: the kernel reports USER_HZ, which is 100 on
/// every architecture Linux exports it for.
const TICKS_PER_SECOND: f64 = 100.0;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Usage {
    /// CPU seconds, user and system, of all the process's threads.
    pub cpu_seconds: f64,
    /// Resident memory now, and at its highest since the process started (VmHWM), in bytes.
    pub rss: u64,
    pub peak_rss: u64,
}

impl Usage {
    /// The usage of process `pid` so far.
    pub fn of(pid: u32) -> anyhow::Result<Self> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .with_context(|| format!("reading /proc/{pid}/stat"))?;
        // The command name (field 2) may hold spaces; the fields after it are plain numbers.
        let after_name = &stat[stat.rfind(')').context("a malformed stat line")? + 2..];
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
        let ticks = |index: usize| -> anyhow::Result<f64> {
            Ok(fields
                .get(index)
                .context("a short stat line")?
                .parse::<f64>()?)
        };
        let cpu_seconds = (ticks(11)? + ticks(12)?) / TICKS_PER_SECOND;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        // The kernel's "kB" are KiB.
        let bytes = |key: &str| -> anyhow::Result<u64> {
            status
                .lines()
                .find_map(|line| line.strip_prefix(key))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
                .map(|kib| kib * 1024)
                .with_context(|| format!("no {key} in /proc/{pid}/status"))
        };
        Ok(Self {
            cpu_seconds,
            rss: bytes("VmRSS:")?,
            peak_rss: bytes("VmHWM:")?,
        })
    }

    /// The usage of this benchmark process.
    pub fn of_this_process() -> anyhow::Result<Self> {
        Self::of(std::process::id())
    }

    /// What was used between `earlier` and this reading: CPU spent in between, memory as now.
    pub fn since(self, earlier: Usage) -> Self {
        Self {
            cpu_seconds: self.cpu_seconds - earlier.cpu_seconds,
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_uses_some_cpu_and_memory() {
        // Spins until the kernel has charged this process a clock tick: on a loaded machine a
        // fixed spell of wall time may get no CPU at all. Ten seconds without one is a fault.
        let give_up = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut usage = Usage::of_this_process().unwrap();
        while usage.cpu_seconds == 0.0 && std::time::Instant::now() < give_up {
            usage = Usage::of_this_process().unwrap();
        }
        assert!(usage.cpu_seconds > 0.0, "{usage:?}");
        assert!(
            usage.rss > 1 << 20 && usage.peak_rss >= usage.rss,
            "{usage:?}"
        );
    }
}

//! The faults, applied one at a time to the running cluster while the load goes on.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::cluster::{Cluster, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    KillFanout,
    KillCommandApi,
    KillProjector,
    CutBroker,
    TerminateBackends,
}

impl Fault {
    pub const ALL: [Fault; 5] = [
        Fault::KillFanout,
        Fault::KillCommandApi,
        Fault::KillProjector,
        Fault::CutBroker,
        Fault::TerminateBackends,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Fault::KillFanout => "kill -9 a fan-out node",
            Fault::KillCommandApi => "kill -9 a command API during requests",
            Fault::KillProjector => "kill -9 a projector mid-batch",
            Fault::CutBroker => "the broker cut off",
            Fault::TerminateBackends => "every PostgreSQL backend terminated",
        }
    }
}

/// What the fault runner needs besides the cluster.
pub struct Context<'a> {
    /// Requests under way per command API, to kill one while it answers some.
    pub in_flight: &'a Arc<Vec<AtomicUsize>>,
    /// Told when every node is back, so clients that moved go home.
    pub go_home: &'a watch::Sender<u64>,
    /// How long a killed process stays down.
    pub down_for: Duration,
    /// How long the broker stays cut off.
    pub outage: Duration,
}

/// When the fault was over (a kill is over at once: recovering is the system's and the
/// clients' business), when the cluster was whole again, and what happened.
pub struct Applied {
    pub ended: Instant,
    pub whole: Instant,
    pub notes: Vec<String>,
}

impl Fault {
    pub async fn apply(
        self,
        cluster: &mut Cluster,
        context: &Context<'_>,
    ) -> anyhow::Result<Applied> {
        let mut notes = Vec::new();
        let ended = match self {
            Fault::KillFanout => {
                let node = cluster.of(Role::Fanout)[0];
                cluster.kill(node).await?;
                let ended = Instant::now();
                tokio::time::sleep(context.down_for).await;
                let restarted = Instant::now();
                cluster.restart(node).await?;
                notes.push(format!(
                    "{} was killed, started again {:.1} s later and ready (`/readyz`) {:.2} s after that; its clients then went back to it with `since`.",
                    cluster.processes[node].name,
                    context.down_for.as_secs_f64(),
                    restarted.elapsed().as_secs_f64()
                ));
                context.go_home.send_modify(|generation| *generation += 1);
                ended
            }
            Fault::KillCommandApi => {
                let api = cluster.of(Role::CommandApi)[0];
                let deadline = Instant::now() + Duration::from_secs(5);
                let mut answering = 0;
                while Instant::now() < deadline {
                    answering = context.in_flight[0].load(Ordering::Relaxed);
                    if answering > 0 {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                cluster.kill(api).await?;
                let ended = Instant::now();
                notes.push(format!(
                    "{} was killed with {answering} of this run's posts under way, and started again {:.1} s later.",
                    cluster.processes[api].name,
                    context.down_for.as_secs_f64()
                ));
                tokio::time::sleep(context.down_for).await;
                cluster.restart(api).await?;
                ended
            }
            Fault::KillProjector => {
                let projector = cluster.of(Role::Projector)[0];
                let caught = cluster
                    .in_transaction(projector, Duration::from_secs(5))
                    .await;
                cluster.kill(projector).await?;
                let ended = Instant::now();
                notes.push(format!(
                    "{} was killed {}, and started again {:.1} s later.",
                    cluster.processes[projector].name,
                    if caught {
                        "inside a transaction (applying a batch)"
                    } else {
                        "(not caught inside a transaction within 5 s)"
                    },
                    context.down_for.as_secs_f64()
                ));
                tokio::time::sleep(context.down_for).await;
                cluster.restart(projector).await?;
                ended
            }
            Fault::CutBroker => {
                cluster.proxy.cut();
                tokio::time::sleep(context.outage).await;
                cluster.proxy.restore();
                notes.push(format!(
                    "Every process reaches RabbitMQ through a proxy, which closed every connection and refused new ones for {:.0} s.",
                    context.outage.as_secs_f64()
                ));
                Instant::now()
            }
            Fault::TerminateBackends => {
                let terminated = cluster.terminate_backends().await?;
                let ended = Instant::now();
                notes.push(format!(
                    "pg_terminate_backend ended {terminated} connections to the run's database at once."
                ));
                ended
            }
        };
        Ok(Applied {
            ended,
            whole: Instant::now(),
            notes,
        })
    }
}

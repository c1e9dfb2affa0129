//! A command refused after it had recorded events leaves no trace: not in the store, not in the
//! copy the next command is decided on.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use eventstore::{CommandExecutor, ExecuteError, ExecutorOptions};
use serde::{Deserialize, Serialize};

use crate::helpers::{fresh_database, sequences, METADATA};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Tally {
    total: u32,
}

#[derive(Debug, Clone)]
enum TallyCommand {
    Add(u32),
    /// Records an addition, then refuses anyway.
    AddThenRefuse(u32),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum TallyEvent {
    Added(u32),
}

impl DomainEvent for TallyEvent {
    fn event_type(&self) -> String {
        "Added".into()
    }

    fn event_version(&self) -> String {
        "1".into()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("refused")]
struct Refused;

impl Aggregate for Tally {
    const TYPE: &'static str = "Tally";
    type Command = TallyCommand;
    type Event = TallyEvent;
    type Error = Refused;
    type Services = ();

    async fn handle(
        &mut self,
        command: TallyCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), Refused> {
        match command {
            TallyCommand::Add(n) => {
                sink.write(TallyEvent::Added(n), self).await;
                Ok(())
            }
            TallyCommand::AddThenRefuse(n) => {
                sink.write(TallyEvent::Added(n), self).await;
                Err(Refused)
            }
        }
    }

    fn apply(&mut self, TallyEvent::Added(n): TallyEvent) {
        self.total += n;
    }
}

#[tokio::test]
async fn a_command_refused_after_recording_events_leaves_no_trace_in_its_batch() {
    let (_, pool) = fresh_database().await;
    let tallies =
        CommandExecutor::<Tally>::with_options(pool.clone(), (), ExecutorOptions::default());
    let observe_total = |tally: &Tally| tally.total;

    // Submitted in one poll, before the worker runs: one batch.
    let (first, refused, last) = tokio::join!(
        tallies.execute_with("t", TallyCommand::Add(1), &METADATA, observe_total),
        tallies.execute_with(
            "t",
            TallyCommand::AddThenRefuse(10),
            &METADATA,
            observe_total
        ),
        tallies.execute_with("t", TallyCommand::Add(100), &METADATA, observe_total),
    );

    assert_eq!(first.unwrap().1, 1);
    assert!(matches!(refused, Err(ExecuteError::Domain(Refused))));
    let (events, total) = last.unwrap();
    assert_eq!((events[0].sequence, total), (2, 101));
    assert_eq!(tallies.stats().batches, 1);
    assert_eq!(sequences(&pool, "t").await, vec![1, 2]);
    assert_eq!(tallies.load("t").await.unwrap().total, 101);
}

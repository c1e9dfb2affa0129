use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::broadcast;

use super::delivery::Delivery;

/// Events held back while a gap is filled; past this the newest are dropped and the fill reads
/// them from the store instead.
const MAX_HELD_BACK: usize = 4096;

/// One room's order: what its stream carried last, and what waits for a gap before it.
#[derive(Debug, Default)]
pub(super) struct Sequencer {
    /// The last sequence the stream carried; `None` until the room's state is first known.
    last: Option<i64>,
    held_back: BTreeMap<i64, Arc<Delivery>>,
    filling: bool,
    /// Something was dropped or missed while a fill ran: read the store once more after it.
    refill: bool,
}

impl Sequencer {
    /// The room's latest sequence as just read from the store: the starting point when no event
    /// of the room has passed yet.
    pub(super) fn start_at(&mut self, last_seq: i64) {
        self.last.get_or_insert(last_seq);
    }

    /// Whether the stream already carried `seq`.
    pub(super) fn has_passed(&self, seq: i64) -> bool {
        self.last >= Some(seq)
    }

    /// Passes an event on if it is the next one; answers where a gap fill must start when it is
    /// further ahead.
    pub(super) fn offer(
        &mut self,
        delivery: Arc<Delivery>,
        stream: &broadcast::Sender<Arc<Delivery>>,
    ) -> Option<i64> {
        let seq = delivery.seq.expect("room events carry a sequence");
        let last = match self.last {
            Some(last) if seq <= last => return None,
            Some(last) if seq > last + 1 => last,
            _ => {
                self.pass(delivery, stream);
                return None;
            }
        };
        if self.held_back.len() < MAX_HELD_BACK {
            self.held_back.insert(seq, delivery);
        } else {
            self.refill = true;
        }
        if self.filling {
            return None;
        }
        self.filling = true;
        Some(last)
    }

    /// An event a fill read from the store: passed on unless the stream carried it already. The
    /// store is the record, so an event past a gap in it (logged where it was read) passes too.
    pub(super) fn restore(
        &mut self,
        delivery: Arc<Delivery>,
        stream: &broadcast::Sender<Arc<Delivery>>,
    ) {
        let seq = delivery.seq.expect("room events carry a sequence");
        if !self.has_passed(seq) {
            self.pass(delivery, stream);
        }
    }

    fn pass(&mut self, delivery: Arc<Delivery>, stream: &broadcast::Sender<Arc<Delivery>>) {
        let mut next = delivery;
        loop {
            let seq = next.seq.expect("room events carry a sequence");
            self.last = Some(seq);
            // No receiver is not an error: the room's sockets may all be closing.
            let _ = stream.send(next);
            self.held_back = self.held_back.split_off(&(seq + 1));
            match self.held_back.first_key_value() {
                Some((&first, _)) if first == seq + 1 => {
                    next = self.held_back.pop_first().expect("just seen").1;
                }
                _ => break,
            }
        }
    }

    /// The broker link came back: where the store must be read from, unless a fill is under way
    /// already (it then reads once more when it ends) or the room's state is not known yet.
    pub(super) fn resync(&mut self) -> Option<i64> {
        let last = self.last?;
        if self.filling {
            self.refill = true;
            return None;
        }
        self.filling = true;
        Some(last)
    }

    /// After the grace an event past a gap is given: where the store must be read from, if
    /// events are still missing.
    pub(super) fn gap_remains(&mut self) -> Option<i64> {
        if self.held_back.is_empty() && !self.refill {
            self.filling = false;
            return None;
        }
        self.last
    }

    /// A gap fill read everything up to the store's end: where the next one must start, if
    /// anything is still missing.
    pub(super) fn fill_done(&mut self) -> Option<i64> {
        self.filling = false;
        let last = self.last?;
        let gap = self
            .held_back
            .first_key_value()
            .is_some_and(|(&first, _)| first > last + 1);
        if gap || std::mem::take(&mut self.refill) {
            self.filling = true;
            return Some(last);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: i64) -> Arc<Delivery> {
        Arc::new(Delivery {
            seq: Some(seq),
            ..Delivery::ephemeral(None, None, None)
        })
    }

    fn received(receiver: &mut broadcast::Receiver<Arc<Delivery>>) -> Vec<i64> {
        let mut seqs = Vec::new();
        while let Ok(delivery) = receiver.try_recv() {
            seqs.push(delivery.seq.unwrap());
        }
        seqs
    }

    #[test]
    fn duplicates_are_dropped_and_order_is_kept() {
        let (stream, mut receiver) = broadcast::channel(64);
        let mut sequencer = Sequencer {
            last: Some(3),
            ..Sequencer::default()
        };
        for seq in [2, 3, 4, 4, 5] {
            assert_eq!(sequencer.offer(event(seq), &stream), None);
        }
        assert_eq!(received(&mut receiver), [4, 5]);
    }

    #[test]
    fn an_event_past_a_gap_waits_for_the_fill_then_follows_it() {
        let (stream, mut receiver) = broadcast::channel(64);
        let mut sequencer = Sequencer {
            last: Some(3),
            ..Sequencer::default()
        };
        assert_eq!(sequencer.offer(event(6), &stream), Some(3));
        assert_eq!(
            sequencer.offer(event(7), &stream),
            None,
            "one fill at a time"
        );
        assert!(received(&mut receiver).is_empty());
        for seq in [4, 5, 6] {
            sequencer.restore(event(seq), &stream);
        }
        assert_eq!(sequencer.fill_done(), None);
        assert_eq!(received(&mut receiver), [4, 5, 6, 7]);
    }

    #[test]
    fn a_fill_that_ends_short_of_held_back_events_starts_another() {
        let (stream, _receiver) = broadcast::channel(64);
        let mut sequencer = Sequencer {
            last: Some(1),
            ..Sequencer::default()
        };
        assert_eq!(sequencer.offer(event(9), &stream), Some(1));
        sequencer.restore(event(2), &stream);
        assert_eq!(sequencer.fill_done(), Some(2));
    }

    #[test]
    fn a_gap_in_the_store_is_passed_over_rather_than_filled_forever() {
        let (stream, mut receiver) = broadcast::channel(64);
        let mut sequencer = Sequencer {
            last: Some(3),
            ..Sequencer::default()
        };
        assert_eq!(sequencer.offer(event(8), &stream), Some(3));
        // The store lacks 4 and 5, which can therefore never arrive.
        for seq in [6, 7, 8] {
            sequencer.restore(event(seq), &stream);
        }
        assert_eq!(sequencer.fill_done(), None, "nothing is waited for");
        assert_eq!(received(&mut receiver), [6, 7, 8]);
        sequencer.restore(event(7), &stream);
        assert!(received(&mut receiver).is_empty(), "no event twice");
    }
}

use std::time::Duration;

use rand::Rng;

use crate::BusError;

const FIRST: Duration = Duration::from_millis(100);
/// The longest pause while the broker cannot be reached: a knock on a closed port or a cut link
/// costs the broker nothing, and the link is back within about this long of the broker's return.
const LONGEST_UNREACHABLE: Duration = Duration::from_secs(1);
/// The longest pause once the broker answered and refused: knocking again costs it a handshake,
/// and it will likely refuse again.
const LONGEST_REFUSED: Duration = Duration::from_secs(5);

/// Pauses between attempts to reach the broker: growing from 100 ms, with jitter so that many
/// clients cut off together do not all knock again at the same instant. They stop growing at 1 s
/// while the broker is out of reach (a 10 s outage was followed by up to 5 s of waiting when they
/// grew to 5 s whatever the failure), and at 5 s when it refuses (credentials, permissions, a
/// declaration it rejects), so a fleet of processes does not hammer a broker that is up but
/// unwilling.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { next: FIRST }
    }
}

impl Backoff {
    pub(crate) fn reset(&mut self) {
        self.next = FIRST;
    }

    /// Waits before the next attempt, after `failure` (`None`: the link was just lost).
    pub(crate) async fn wait(&mut self, failure: Option<&BusError>) {
        tokio::time::sleep(self.next_pause(failure)).await;
    }

    fn next_pause(&mut self, failure: Option<&BusError>) -> Duration {
        let longest = match failure {
            Some(failure) if failure.is_refusal() => LONGEST_REFUSED,
            _ => LONGEST_UNREACHABLE,
        };
        let pause = self.next.min(longest);
        self.next = (pause * 2).min(longest);
        pause.mul_f64(rand::rng().random_range(0.5..1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal() -> BusError {
        BusError::Nacked("at position 1".into())
    }

    fn out_of_reach() -> BusError {
        BusError::Timeout(Duration::from_secs(5))
    }

    #[test]
    fn pauses_grow_from_a_tenth_of_a_second_and_stop_at_one_while_the_broker_is_out_of_reach() {
        let mut backoff = Backoff::default();
        let first = backoff.next_pause(Some(&out_of_reach()));
        assert!(first >= FIRST / 2 && first <= FIRST);
        let later: Vec<Duration> = (0..20)
            .map(|_| backoff.next_pause(Some(&out_of_reach())))
            .collect();
        assert!(later.iter().all(|pause| *pause <= LONGEST_UNREACHABLE));
        assert!(later[10..]
            .iter()
            .all(|pause| *pause >= LONGEST_UNREACHABLE / 2));
    }

    #[test]
    fn pauses_grow_to_five_seconds_while_the_broker_refuses_and_shrink_when_it_is_gone() {
        let mut backoff = Backoff::default();
        for _ in 0..10 {
            backoff.next_pause(Some(&refusal()));
        }
        assert!(backoff.next_pause(Some(&refusal())) >= LONGEST_REFUSED / 2);
        assert!(backoff.next_pause(None) <= LONGEST_UNREACHABLE);
        backoff.reset();
        assert!(backoff.next_pause(Some(&refusal())) <= FIRST);
    }
}

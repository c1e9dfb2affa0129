//! Judging one phase: did every acknowledged message reach every subscriber of its room once and
//! in order, was every message never acknowledged stored once or not at all, and how long after
//! the fault ended did delivery resume.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use sqlx::PgPool;
use tokio::time::Instant;

use super::ledger::{Inbox, Ledger};

#[derive(Debug, Default, Clone)]
pub struct Verdict {
    pub acknowledged: u64,
    /// Stored messages (acknowledged, or stored though their sender was never told) times the
    /// subscribers of their room.
    pub expected: u64,
    /// Deliveries of stored messages, each counted once.
    pub delivered: u64,
    /// Deliveries of a message a subscriber had received already.
    pub duplicated: u64,
    pub missing: u64,
    /// Deliveries of a message after a later one of its room.
    pub out_of_order: u64,
    pub unacknowledged: u64,
    /// Of those, how many the store holds.
    pub unacknowledged_stored: u64,
    /// Keys the store holds more than once, or acknowledged with different sequences.
    pub stored_twice: u64,
    /// From the fault's end until a message of each room sent after it had reached every
    /// subscriber of the room, the longest over the rooms; `None` when in some room none did.
    pub resumed_after: Option<Duration>,
}

/// Whether every subscriber holds every acknowledged message of its room.
pub fn all_delivered(ledger: &Ledger, inboxes: &[Inbox]) -> bool {
    let mut acked_per_room: HashMap<usize, Vec<String>> = HashMap::new();
    for (key, sent) in &ledger.lock().by_key {
        if sent.ack.is_some() {
            acked_per_room
                .entry(sent.room)
                .or_default()
                .push(key.clone());
        }
    }
    inboxes.iter().all(|inbox| {
        let received: HashSet<String> = inbox
            .receipts()
            .into_iter()
            .filter_map(|receipt| receipt.key)
            .collect();
        acked_per_room
            .get(&inbox.room)
            .is_none_or(|keys| keys.iter().all(|key| received.contains(key)))
    })
}

/// Judges the messages of `phase`; `fault_end` is when the fault was over.
pub async fn judge(
    phase: usize,
    ledger: &Ledger,
    inboxes: &[Inbox],
    pool: &PgPool,
    fault_end: Instant,
) -> anyhow::Result<Verdict> {
    let sent: HashMap<String, super::ledger::Sent> = ledger
        .lock()
        .by_key
        .iter()
        .filter(|(_, sent)| sent.phase == phase)
        .map(|(key, sent)| (key.clone(), sent.clone()))
        .collect();
    let mut verdict = Verdict::default();
    let stored = stored_counts(pool, phase).await?;
    let copies = |key: &String| stored.get(key).copied().unwrap_or(0);
    for (key, message) in &sent {
        let copies = copies(key);
        if copies > 1 || message.acks_disagree {
            verdict.stored_twice += 1;
        }
        if message.ack.is_some() {
            verdict.acknowledged += 1;
        } else {
            verdict.unacknowledged += 1;
            verdict.unacknowledged_stored += u64::from(copies > 0);
        }
    }

    let received: Vec<HashMap<String, Instant>> = inboxes
        .iter()
        .map(|inbox| receive(inbox, &sent, &mut verdict))
        .collect();
    for (key, message) in &sent {
        if message.ack.is_none() && copies(key) == 0 {
            continue;
        }
        for (inbox, got) in inboxes.iter().zip(&received) {
            if inbox.room != message.room {
                continue;
            }
            verdict.expected += 1;
            if got.contains_key(key) {
                verdict.delivered += 1;
            } else {
                verdict.missing += 1;
            }
        }
    }
    verdict.resumed_after = resumed_after(&sent, inboxes, &received, fault_end);
    Ok(verdict)
}

/// Goes through one subscriber's receipts in order: counts its duplicates and reorderings of
/// this phase's messages, and answers when it first received each of them.
fn receive(
    inbox: &Inbox,
    sent: &HashMap<String, super::ledger::Sent>,
    verdict: &mut Verdict,
) -> HashMap<String, Instant> {
    let mut first_received = HashMap::new();
    let mut highest = i64::MIN;
    for receipt in inbox.receipts() {
        let ours = receipt.key.as_ref().filter(|key| sent.contains_key(*key));
        if let Some(key) = ours {
            if first_received.contains_key(key) {
                verdict.duplicated += 1;
            } else {
                if receipt.seq < highest {
                    verdict.out_of_order += 1;
                }
                first_received.insert(key.clone(), receipt.at);
            }
        }
        highest = highest.max(receipt.seq);
    }
    first_received
}

fn resumed_after(
    sent: &HashMap<String, super::ledger::Sent>,
    inboxes: &[Inbox],
    received: &[HashMap<String, Instant>],
    fault_end: Instant,
) -> Option<Duration> {
    let mut longest = Duration::ZERO;
    for room in inboxes
        .iter()
        .map(|inbox| inbox.room)
        .collect::<HashSet<_>>()
    {
        let subscribers: Vec<&HashMap<String, Instant>> = inboxes
            .iter()
            .zip(received)
            .filter(|(inbox, _)| inbox.room == room)
            .map(|(_, got)| got)
            .collect();
        // When each message sent after the fault had reached every subscriber of the room.
        let resumed = sent
            .iter()
            .filter(|(_, message)| message.room == room && message.first_sent >= fault_end)
            .filter_map(|(key, _)| {
                subscribers
                    .iter()
                    .map(|got| got.get(key).copied())
                    .try_fold(fault_end, |latest, at| Some(latest.max(at?)))
            })
            .min()?;
        longest = longest.max(resumed - fault_end);
    }
    Some(longest)
}

/// How many times the store holds each key of `phase`.
async fn stored_counts(pool: &PgPool, phase: usize) -> anyhow::Result<HashMap<String, u64>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT metadata ->> 'client_msg_id', count(*)
           FROM events
          WHERE event_type = 'MessagePosted' AND metadata ->> 'client_msg_id' LIKE $1
          GROUP BY 1",
    )
    .bind(format!("p{phase}-%"))
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(key, count)| (key, count as u64))
        .collect())
}

//! What the clients did and saw: every message sent (when, to which room, in which phase, and
//! the sequence it was acknowledged with, if it was), and every room event each subscriber
//! received, with the instant it came.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::time::Instant;

/// One message a client sent, under its key (its content and its `client_msg_id`).
#[derive(Debug, Clone)]
pub struct Sent {
    pub room: usize,
    pub phase: usize,
    pub first_sent: Instant,
    pub ack: Option<Ack>,
    /// Every acknowledgement of the key named the same sequence.
    pub acks_disagree: bool,
    /// The client stopped trying without an acknowledgement.
    pub abandoned: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct Ack {
    pub seq: i64,
}

/// Every message sent in the run; shared by the senders.
#[derive(Clone, Default)]
pub struct Ledger {
    inner: Arc<Mutex<Messages>>,
}

#[derive(Default)]
pub struct Messages {
    pub by_key: HashMap<String, Sent>,
}

impl Ledger {
    pub fn lock(&self) -> MutexGuard<'_, Messages> {
        self.inner.lock().expect("ledger poisoned")
    }

    /// Records a first attempt to send `key`.
    pub fn sending(&self, key: &str, room: usize, phase: usize) {
        self.lock().by_key.entry(key.to_owned()).or_insert(Sent {
            room,
            phase,
            first_sent: Instant::now(),
            ack: None,
            acks_disagree: false,
            abandoned: false,
        });
    }

    pub fn acked(&self, key: &str, seq: i64) {
        if let Some(sent) = self.lock().by_key.get_mut(key) {
            match sent.ack {
                Some(ack) if ack.seq != seq => sent.acks_disagree = true,
                Some(_) => {}
                None => {
                    sent.ack = Some(Ack { seq });
                    sent.abandoned = false;
                }
            }
        }
    }

    pub fn abandoned(&self, key: &str) {
        if let Some(sent) = self.lock().by_key.get_mut(key) {
            sent.abandoned = sent.ack.is_none();
        }
    }

    /// Messages neither acknowledged nor given up yet.
    pub fn pending(&self) -> usize {
        self.lock()
            .by_key
            .values()
            .filter(|sent| sent.ack.is_none() && !sent.abandoned)
            .count()
    }
}

/// One room event a subscriber received.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub seq: i64,
    /// The message's `client_msg_id`: this run's key of it.
    pub key: Option<String>,
    pub at: Instant,
}

/// What one subscriber received, in order, across all its connections.
#[derive(Clone)]
pub struct Inbox {
    pub room: usize,
    receipts: Arc<Mutex<Vec<Receipt>>>,
    /// The highest sequence received; a reconnect resumes after it.
    last_seq: Arc<Mutex<i64>>,
}

impl Inbox {
    pub fn new(room: usize, since: i64) -> Self {
        Self {
            room,
            receipts: Arc::default(),
            last_seq: Arc::new(Mutex::new(since)),
        }
    }

    pub fn record(&self, seq: i64, key: Option<String>) {
        let at = Instant::now();
        self.receipts
            .lock()
            .expect("inbox poisoned")
            .push(Receipt { seq, key, at });
        let mut last = self.last_seq.lock().expect("inbox poisoned");
        *last = (*last).max(seq);
    }

    pub fn last_seq(&self) -> i64 {
        *self.last_seq.lock().expect("inbox poisoned")
    }

    pub fn receipts(&self) -> Vec<Receipt> {
        self.receipts.lock().expect("inbox poisoned").clone()
    }
}

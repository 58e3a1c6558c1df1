//! Things an operator should hear about once per process (a key server publishing a private
//! key, say), found where no logger is at hand. Each sentence is queued the first time it is
//! raised; the packages take the queue after their calls into the core and log it at warning
//! level.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Different sentences remembered; past it, repeats may be logged again rather than grow memory.
const MAX_SEEN: usize = 1024;

#[derive(Default)]
struct Queue {
    seen: HashSet<String>,
    pending: Vec<String>,
}

static QUEUE: Mutex<Option<Queue>> = Mutex::new(None);
/// Lets the per-request [`take`] skip the lock when nothing is waiting.
static PENDING: AtomicBool = AtomicBool::new(false);

/// Queues `message` unless it was raised before.
pub fn raise(message: String) {
    let mut q = QUEUE.lock().unwrap_or_else(|p| p.into_inner());
    let q = q.get_or_insert_with(Queue::default);
    if q.seen.contains(&message) {
        return;
    }
    if q.seen.len() >= MAX_SEEN {
        q.seen.clear();
    }
    q.seen.insert(message.clone());
    q.pending.push(message);
    PENDING.store(true, Ordering::Release);
}

/// The sentences raised since the last call, oldest first.
pub fn take() -> Vec<String> {
    if !PENDING.swap(false, Ordering::AcqRel) {
        return Vec::new();
    }
    let mut q = QUEUE.lock().unwrap_or_else(|p| p.into_inner());
    q.as_mut()
        .map(|q| std::mem::take(&mut q.pending))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_sentence_is_handed_out_once() {
        raise("notice test: a".into());
        raise("notice test: a".into());
        raise("notice test: b".into());
        let got: Vec<String> = take()
            .into_iter()
            .filter(|m| m.starts_with("notice test:"))
            .collect();
        assert_eq!(got, ["notice test: a", "notice test: b"]);
        raise("notice test: a".into());
        assert!(!take().iter().any(|m| m.starts_with("notice test:")));
    }
}

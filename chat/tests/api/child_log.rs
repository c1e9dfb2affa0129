//! A child process's stderr, gathered line by line for the stories' failure messages, and the
//! first line that says what a story waits for (the address it bound, that it serves).

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::ChildStderr;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Every line logged so far.
pub type Lines = Arc<Mutex<Vec<String>>>;

/// Gathers every line of `stderr` until it closes. Answers the lines, the task that gathers
/// them, and the first value `notice` finds in a line; that one fails if the stream closes
/// before any line gives one (the process exited).
pub fn gather<T: Send + 'static>(
    stderr: ChildStderr,
    notice: impl Fn(&str) -> Option<T> + Send + 'static,
) -> (Lines, JoinHandle<()>, oneshot::Receiver<T>) {
    let lines: Lines = Arc::default();
    let gathered = lines.clone();
    let (noticed, first) = oneshot::channel();
    let reading = tokio::spawn(async move {
        let mut noticed = Some(noticed);
        let mut stderr = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = stderr.next_line().await {
            if let Some(value) = noticed.as_ref().and_then(|_| notice(&line)) {
                let _ = noticed.take().expect("not sent yet").send(value);
            }
            gathered.lock().unwrap().push(line);
        }
    });
    (lines, reading, first)
}

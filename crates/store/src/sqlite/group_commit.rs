//! The ingest queue: callers hand their batch to one thread that owns the writing of ingest,
//! which takes every batch waiting and commits them together. A caller is answered only after
//! the commit that holds its lines, so an acknowledged line is durable.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::conn::Writer;
use super::ingest::{IngestJob, ingest};
use crate::{IngestOutcome, StoreError};

/// Lines in one group commit at most; more wait for the next.
const MAX_GROUP_LINES: usize = 100_000;

type Reply = oneshot::Sender<Result<IngestOutcome, StoreError>>;

pub(crate) struct IngestQueue {
    sender: Sender<(IngestJob, Reply)>,
}

impl IngestQueue {
    /// Starts the ingest thread; it ends when the queue is dropped.
    pub(crate) fn start(writer: Arc<Mutex<Writer>>) -> std::io::Result<Self> {
        let (sender, receiver) = channel();
        std::thread::Builder::new()
            .name("ferry-ingest".into())
            .spawn(move || run(&writer, &receiver))?;
        Ok(IngestQueue { sender })
    }

    pub(crate) async fn ingest(&self, job: IngestJob) -> Result<IngestOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send((job, reply))
            .map_err(|_| StoreError::Backend("the ingest thread has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Backend("the ingest thread stopped mid-batch".into()))?
    }
}

fn run(writer: &Mutex<Writer>, queue: &Receiver<(IngestJob, Reply)>) {
    while let Ok(first) = queue.recv() {
        let mut lines = first.0.lines.len();
        let mut group = vec![first];
        while lines < MAX_GROUP_LINES {
            match queue.try_recv() {
                Ok(next) => {
                    lines += next.0.lines.len();
                    group.push(next);
                }
                Err(_) => break,
            }
        }
        let (jobs, replies): (Vec<IngestJob>, Vec<Reply>) = group.into_iter().unzip();
        let result = {
            let mut guard = writer.lock().unwrap_or_else(|poisoned| {
                let mut guard = poisoned.into_inner();
                guard.cache.clear();
                guard
            });
            let Writer { conn, cache } = &mut *guard;
            ingest(conn, cache, &jobs)
        };
        match result {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                // The transaction rolled back: nothing of any batch in it was stored.
                let message = e.to_string();
                for reply in replies {
                    let _ = reply.send(Err(StoreError::Backend(message.clone().into())));
                }
            }
        }
    }
}

//! The SQLite database behind every embedded adapter: one writer thread doing group commit,
//! and a small pool of read connections (WAL lets readers run beside the writer).
//!
//! Group commit: every write is a closure sent to the writer thread. The thread takes every
//! request waiting (up to `max_batch`), runs each inside its own SAVEPOINT of ONE transaction,
//! commits once (`synchronous=FULL`: the commit is durable when it returns) and only then
//! answers each caller with its own result. A request that fails (conflict, duplicate) rolls
//! back to its savepoint and does not fail its batch neighbours.
//!
//! Some errors (disk full, I/O error, out of memory) make SQLite roll back the WHOLE
//! transaction by itself. The writer checks after every request that the transaction is
//! still open; when it is gone, the rest of the batch is failed without being run (run
//! outside the transaction, each would autocommit on its own while its caller is told it
//! failed) and every caller of the batch is told its write failed.

use phananh_core::ports::StoreError;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, Notify, Semaphore};

/// Tuning of the database.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Most write requests committed in one transaction.
    pub max_batch: usize,
    /// Read connections used at the same time.
    pub read_connections: usize,
    /// Write requests that may wait for the writer before callers are held back.
    pub queue_depth: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_batch: 512,
            read_connections: 4,
            queue_depth: 8192,
        }
    }
}

/// Called after the batch commit with the commit error, if any.
type Completion = Box<dyn FnOnce(Option<&str>) + Send>;
/// A write request. Gets `Err(why)` instead of the connection when it must not run: the batch
/// transaction could not begin, or SQLite rolled it back before this request's turn.
type Job = Box<dyn FnOnce(Result<&Connection, &str>) -> Completion + Send>;

/// Why the batch failed when SQLite ended its transaction by itself.
const TRANSACTION_LOST: &str = "SQLite rolled back the batch transaction";

pub(crate) fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Database file name under the data directory.
pub const DB_FILE: &str = "reports.db";

/// Counters of the writer thread (group commit at work).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Transactions committed (or attempted).
    pub commits: u64,
    /// Write requests handled.
    pub requests: u64,
    /// Most requests in one transaction.
    pub largest_batch: u64,
}

#[derive(Default)]
struct Counters {
    commits: AtomicU64,
    requests: AtomicU64,
    largest_batch: AtomicU64,
}

/// SQLite store: reports, accounts, outbox, queues and notifications in one WAL database.
pub struct SqliteStore {
    path: PathBuf,
    sender: Mutex<Option<mpsc::Sender<Job>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    readers: Arc<ReadPool>,
    read_permits: Arc<Semaphore>,
    counters: Arc<Counters>,
    /// Notified after every commit: wakes the outbox relay.
    pub(crate) committed: Arc<Notify>,
    /// Notified when deliveries were enqueued: wakes the queue workers.
    pub(crate) deliveries_ready: Arc<Notify>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // 64 MiB page cache per connection.
    conn.pragma_update(None, "cache_size", -65536)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

impl SqliteStore {
    /// Opens (creating when absent) `reports.db` under `dir`, applies migrations and starts
    /// the writer thread.
    pub fn open(
        dir: impl AsRef<Path>,
        options: StoreOptions,
    ) -> Result<Arc<SqliteStore>, StoreError> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(backend)?;
        let path = dir.join(DB_FILE);
        let mut conn = Connection::open(&path).map_err(backend)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(backend)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!(
                "journal mode {mode}, WAL expected"
            )));
        }
        configure(&conn).map_err(backend)?;
        crate::schema::migrate(&mut conn).map_err(backend)?;

        let (tx, rx) = mpsc::channel::<Job>(options.queue_depth.max(1));
        let committed = Arc::new(Notify::new());
        let notify = committed.clone();
        let max_batch = options.max_batch.max(1);
        let counters = Arc::new(Counters::default());
        let c2 = counters.clone();
        let writer = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(conn, rx, max_batch, notify, c2))
            .map_err(backend)?;

        let readers = Arc::new(ReadPool {
            path: path.clone(),
            idle: Mutex::new(Vec::new()),
            max_idle: options.read_connections.max(1),
        });
        Ok(Arc::new(SqliteStore {
            path,
            sender: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            readers,
            read_permits: Arc::new(Semaphore::new(options.read_connections.max(1))),
            counters,
            committed,
            deliveries_ready: Arc::new(Notify::new()),
        }))
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the writer thread did so far.
    pub fn writer_stats(&self) -> WriterStats {
        WriterStats {
            commits: self.counters.commits.load(Ordering::Relaxed),
            requests: self.counters.requests.load(Ordering::Relaxed),
            largest_batch: self.counters.largest_batch.load(Ordering::Relaxed),
        }
    }

    /// Write requests waiting for the writer thread right now.
    pub fn queued_writes(&self) -> usize {
        self.sender
            .lock()
            .ok()
            .and_then(|s| s.as_ref().map(|s| s.max_capacity() - s.capacity()))
            .unwrap_or(0)
    }

    /// Runs `f` on the writer thread inside its own savepoint of the next group-commit
    /// transaction; resolves after the batch is durably committed.
    pub async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<Result<T, StoreError>>();
        let job: Job = Box::new(move |conn| {
            let result = match conn {
                Ok(conn) => in_savepoint(conn, f),
                Err(why) => Err(StoreError::Backend(format!("write not run: {why}"))),
            };
            Box::new(move |commit_err: Option<&str>| {
                let out = match (result, commit_err) {
                    (Ok(v), None) => Ok(v),
                    (Ok(_), Some(e)) => Err(StoreError::Backend(format!("commit failed: {e}"))),
                    (Err(e), _) => Err(e),
                };
                // The caller may have gone away; nothing to do then.
                let _ = reply.send(out);
            })
        });
        let sender = self
            .sender
            .lock()
            .map_err(|_| StoreError::Backend("writer lock poisoned".into()))?
            .clone()
            .ok_or_else(|| StoreError::Backend("store closed".into()))?;
        sender
            .send(job)
            .await
            .map_err(|_| StoreError::Backend("writer stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Backend("writer stopped before answering".into()))?
    }

    /// Runs `f` on a read connection off the async executor.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let permit = self
            .read_permits
            .clone()
            .acquire_owned()
            .await
            .map_err(backend)?;
        let pool = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let conn = pool.take()?;
            let out = f(&conn);
            pool.give_back(conn);
            out
        })
        .await
        .map_err(backend)?
    }

    /// Stops the writer after the requests already queued; later writes fail.
    pub fn close(&self) {
        if let Ok(mut s) = self.sender.lock() {
            s.take();
        }
        let handle = self.writer.lock().ok().and_then(|mut w| w.take());
        if let Some(h) = handle {
            if h.join().is_err() {
                tracing::error!("sqlite writer thread panicked");
            }
        }
        if let Ok(mut idle) = self.readers.idle.lock() {
            idle.clear();
        }
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.close();
    }
}

fn in_savepoint<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let exec = |sql: &str| {
        conn.prepare_cached(sql)
            .and_then(|mut st| st.execute([]))
            .map(|_| ())
    };
    exec("SAVEPOINT req").map_err(backend)?;
    let out = f(conn);
    if conn.is_autocommit() {
        // SQLite rolled back the whole transaction (and its savepoints): nothing to release
        // or roll back to, and whatever `f` wrote is gone.
        return match out {
            Ok(_) => Err(StoreError::Backend(TRANSACTION_LOST.into())),
            Err(e) => Err(e),
        };
    }
    match out {
        Ok(v) => {
            exec("RELEASE req").map_err(backend)?;
            Ok(v)
        }
        Err(e) => {
            if let Err(rb) = exec("ROLLBACK TO req").and_then(|_| exec("RELEASE req")) {
                tracing::error!(error = %rb, "rollback to savepoint failed");
            }
            Err(e)
        }
    }
}

fn writer_loop(
    conn: Connection,
    mut rx: mpsc::Receiver<Job>,
    max_batch: usize,
    committed: Arc<Notify>,
    counters: Arc<Counters>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(max_batch);
    let mut completions: Vec<Completion> = Vec::with_capacity(max_batch);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let n = batch.len() as u64;
        counters.requests.fetch_add(n, Ordering::Relaxed);
        counters.commits.fetch_add(1, Ordering::Relaxed);
        counters.largest_batch.fetch_max(n, Ordering::Relaxed);
        match conn.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => {
                let mut lost = false;
                for job in batch.drain(..) {
                    if lost {
                        completions.push(job(Err(TRANSACTION_LOST)));
                        continue;
                    }
                    completions.push(job(Ok(&conn)));
                    // Autocommit again means SQLite ended the transaction by itself.
                    if conn.is_autocommit() {
                        lost = true;
                    }
                }
                let commit_err = if lost {
                    tracing::error!(
                        requests = n,
                        "SQLite rolled back the group-commit transaction; the whole batch failed"
                    );
                    Some(TRANSACTION_LOST.to_string())
                } else {
                    match conn.execute_batch("COMMIT") {
                        Ok(()) => None,
                        Err(e) => {
                            tracing::error!(error = %e, "group commit failed");
                            if let Err(rb) = conn.execute_batch("ROLLBACK") {
                                tracing::error!(error = %rb, "rollback after failed commit failed");
                            }
                            Some(e.to_string())
                        }
                    }
                };
                for c in completions.drain(..) {
                    c(commit_err.as_deref());
                }
                committed.notify_one();
            }
            Err(e) => {
                tracing::error!(error = %e, "could not begin write transaction");
                let msg = e.to_string();
                for job in batch.drain(..) {
                    job(Err(&msg))(Some(&msg));
                }
            }
        }
    }
    tracing::debug!("sqlite writer stopped");
}

struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    max_idle: usize,
}

impl ReadPool {
    fn take(&self) -> Result<Connection, StoreError> {
        if let Some(c) = self.idle.lock().ok().and_then(|mut v| v.pop()) {
            return Ok(c);
        }
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(backend)?;
        configure(&conn).map_err(backend)?;
        Ok(conn)
    }

    fn give_back(&self, conn: Connection) {
        if let Ok(mut v) = self.idle.lock() {
            if v.len() < self.max_idle {
                v.push(conn);
            }
        }
    }
}

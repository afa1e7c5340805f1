//! Single-flight with a short reuse window, for the slow per-session work that must not run once
//! per request: the `jwt` callback (an access-token refresh) and database session lookups.
//!
//! For one key, at most one run is in progress: later callers wait for it and get its result.
//! A successful result is then reused for `window`, counted from when it finished; a failure is
//! handed to the callers that waited for that run and then forgotten, so the next caller starts
//! afresh. The table is bounded: when it is full, finished entries past their window are dropped,
//! and if it is still full the run goes ahead without being shared (correct, only not deduplicated).
//! No lock is held across an `.await`.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::future::{FutureExt, Shared};

/// A boxed run whose result every waiter can clone.
type Run<V, E> = Shared<Pin<Box<dyn Future<Output = Result<V, E>> + Send>>>;

enum Slot<V, E> {
    Running(Run<V, E>),
    Done { value: V, until: Instant },
}

/// Runs keyed by a string (a session token); see the module docs.
pub(crate) struct Flights<V, E> {
    slots: Mutex<HashMap<Box<str>, Slot<V, E>>>,
    capacity: usize,
    window: Duration,
}

impl<V, E> Flights<V, E>
where
    V: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + 'static,
{
    /// At most `capacity` keys at once; successes are reused for `window`.
    pub(crate) fn new(capacity: usize, window: Duration) -> Self {
        Self {
            slots: Mutex::new(HashMap::new()),
            capacity,
            window,
        }
    }

    /// The result of `make()` for `key`: a success from the last `window`, the run in progress,
    /// or a new run.
    pub(crate) fn run<F, Fut>(
        self: &Arc<Self>,
        key: &str,
        make: F,
    ) -> impl Future<Output = Result<V, E>> + Send + 'static
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>> + Send + 'static,
    {
        enum Step<V, E> {
            Ready(V),
            Wait(Run<V, E>, Option<Box<str>>),
        }
        let step = {
            let mut slots = self.lock();
            let now = Instant::now();
            match slots.get(key) {
                Some(Slot::Done { value, until }) if *until > now => Step::Ready(value.clone()),
                Some(Slot::Running(run)) => Step::Wait(run.clone(), Some(key.into())),
                _ => {
                    let run: Run<V, E> = (Box::pin(make())
                        as Pin<Box<dyn Future<Output = Result<V, E>> + Send>>)
                        .shared();
                    if slots.len() >= self.capacity && !slots.contains_key(key) {
                        // A run whose callers all went away before it finished stays
                        // `Running` until its key is asked for again; once it has finished
                        // (`peek`), its slot goes too.
                        slots.retain(|_, slot| match slot {
                            Slot::Running(run) => run.peek().is_none(),
                            Slot::Done { until, .. } => *until > now,
                        });
                    }
                    if slots.len() < self.capacity || slots.contains_key(key) {
                        slots.insert(key.into(), Slot::Running(run.clone()));
                        Step::Wait(run, Some(key.into()))
                    } else {
                        Step::Wait(run, None)
                    }
                }
            }
        };
        let flights = Arc::clone(self);
        async move {
            match step {
                Step::Ready(value) => Ok(value),
                Step::Wait(run, key) => {
                    let result = run.clone().await;
                    if let Some(key) = key {
                        flights.settle(&key, &run, &result);
                    }
                    result
                }
            }
        }
    }

    /// Records the end of `run`, unless another run has replaced it meanwhile.
    fn settle(&self, key: &str, run: &Run<V, E>, result: &Result<V, E>) {
        let mut slots = self.lock();
        let ours = matches!(slots.get(key), Some(Slot::Running(r)) if r.ptr_eq(run));
        if !ours {
            return;
        }
        match result {
            Ok(value) if !self.window.is_zero() => {
                let until = Instant::now() + self.window;
                slots.insert(
                    key.into(),
                    Slot::Done {
                        value: value.clone(),
                        until,
                    },
                );
            }
            _ => {
                slots.remove(key);
            }
        }
    }

    /// How long a success is reused.
    pub(crate) fn window(&self) -> Duration {
        self.window
    }

    /// Drops what is known about `key` (a signed-out session), finished or not.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn forget(&self, key: &str) {
        self.lock().remove(key);
    }

    /// How many keys are held (running or within their window).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    // A panic while the lock is held can only come from `HashMap` itself; the map is still
    // consistent, so a poisoned lock is used as is.
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Slot<V, E>>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll, Waker};

    fn poll<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
        Pin::new(f).poll(&mut Context::from_waker(Waker::noop()))
    }

    /// A run that finishes when `gate` is set, counting its starts.
    fn gated(
        starts: &Arc<AtomicUsize>,
        gate: &Arc<Mutex<Option<Result<u32, &'static str>>>>,
    ) -> impl FnOnce() -> Pin<Box<dyn Future<Output = Result<u32, &'static str>> + Send>> {
        let starts = starts.clone();
        let gate = gate.clone();
        move || {
            starts.fetch_add(1, Ordering::SeqCst);
            Box::pin(std::future::poll_fn(move |cx| {
                match *gate.lock().unwrap() {
                    Some(result) => Poll::Ready(result),
                    None => {
                        cx.waker().wake_by_ref();
                        Poll::Pending
                    }
                }
            }))
        }
    }

    #[test]
    fn waiters_share_one_run_and_its_success_is_reused_within_the_window() {
        let flights = Arc::new(Flights::new(8, Duration::from_secs(60)));
        let starts = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Mutex::new(None));
        let mut waiting: Vec<_> = (0..10)
            .map(|_| Box::pin(flights.run("t", gated(&starts, &gate))))
            .collect();
        for w in &mut waiting {
            assert!(poll(w).is_pending());
        }
        *gate.lock().unwrap() = Some(Ok(7));
        for w in &mut waiting {
            assert_eq!(poll(w), Poll::Ready(Ok(7)));
        }
        let mut later = Box::pin(flights.run("t", gated(&starts, &gate)));
        assert_eq!(poll(&mut later), Poll::Ready(Ok(7)));
        assert_eq!(starts.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_failure_reaches_every_waiter_and_is_not_kept() {
        let flights = Arc::new(Flights::new(8, Duration::from_secs(60)));
        let starts = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Mutex::new(None));
        let mut a = Box::pin(flights.run("t", gated(&starts, &gate)));
        let mut b = Box::pin(flights.run("t", gated(&starts, &gate)));
        assert!(poll(&mut a).is_pending() && poll(&mut b).is_pending());
        *gate.lock().unwrap() = Some(Err("down"));
        assert_eq!(poll(&mut a), Poll::Ready(Err("down")));
        assert_eq!(poll(&mut b), Poll::Ready(Err("down")));
        assert_eq!(flights.len(), 0);
        *gate.lock().unwrap() = Some(Ok(1));
        let mut c = Box::pin(flights.run("t", gated(&starts, &gate)));
        assert_eq!(poll(&mut c), Poll::Ready(Ok(1)));
        assert_eq!(starts.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_zero_window_keeps_nothing_and_forget_drops_a_success() {
        let starts = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Mutex::new(Some(Ok(3))));
        let none = Arc::new(Flights::new(8, Duration::ZERO));
        let mut a = Box::pin(none.run("t", gated(&starts, &gate)));
        assert_eq!(poll(&mut a), Poll::Ready(Ok(3)));
        assert_eq!(none.len(), 0);

        let kept = Arc::new(Flights::new(8, Duration::from_secs(60)));
        let mut b = Box::pin(kept.run("t", gated(&starts, &gate)));
        assert_eq!(poll(&mut b), Poll::Ready(Ok(3)));
        kept.forget("t");
        let mut c = Box::pin(kept.run("t", gated(&starts, &gate)));
        assert_eq!(poll(&mut c), Poll::Ready(Ok(3)));
        assert_eq!(starts.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn the_table_stays_within_its_capacity() {
        let flights = Arc::new(Flights::new(4, Duration::from_secs(60)));
        let starts = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Mutex::new(Some(Ok(1))));
        for i in 0..100 {
            let mut run = Box::pin(flights.run(&format!("t{i}"), gated(&starts, &gate)));
            assert_eq!(poll(&mut run), Poll::Ready(Ok(1)));
            assert!(flights.len() <= 4);
        }
        assert_eq!(starts.load(Ordering::SeqCst), 100);
    }
}

//! Waiting on a condition with a deadline, instead of sleeping and hoping.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// How long to pause between two checks of a condition that is not true yet.
const POLL: Duration = Duration::from_millis(20);

/// Calls `attempt` until it succeeds, and returns its value; fails with `what` and the last
/// error once `timeout` has passed.
pub async fn wait_for<T, E, F, Fut>(
    timeout: Duration,
    what: &str,
    mut attempt: F,
) -> anyhow::Result<T>
where
    E: Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        let last = match tokio::time::timeout_at(deadline, attempt()).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(e)) => e.to_string(),
            Err(_) => "the last attempt was still running at the deadline".to_string(),
        };
        if Instant::now() + POLL >= deadline {
            anyhow::bail!("timed out after {timeout:?} waiting until {what}; last: {last}");
        }
        tokio::time::sleep(POLL).await; // sleep-ok: the poll interval of the deadline wait itself
    }
}

/// Checks `condition` until it holds; fails naming `what` once `timeout` has passed.
pub async fn wait_until<F, Fut>(
    timeout: Duration,
    what: &str,
    mut condition: F,
) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    wait_for(timeout, what, || {
        let check = condition();
        async move {
            if check.await {
                Ok(())
            } else {
                Err("the condition does not hold yet")
            }
        }
    })
    .await
}

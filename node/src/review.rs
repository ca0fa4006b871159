//! Review dates of person records: a record of this district that is past its
//! `review_by_ms` must be looked at again by an admin, who confirms it (`setu record
//! review ID`, which moves the date a year on) or expunges it. This module reminds the
//! district in its logs once a day, so that no dossier stays on the shared list forever by
//! neglect.

use crate::clock::Clock;
use crate::storage::{Storage, StorageResult};
use std::time::Duration;
use tokio::sync::watch;

/// How often the reminder runs.
pub const REMINDER_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);
/// How many ids a reminder names.
const NAMED_IDS: usize = 5;

/// This district's records past their review date at `now_ms`: how many, and the first
/// few ids (in id order).
pub fn due_for_review(
    storage: &Storage,
    district: &str,
    now_ms: i64,
) -> StorageResult<(usize, Vec<String>)> {
    let mut count = 0;
    let mut first = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = storage.list_records(after.as_deref(), 1024, |r| {
            r.origin == district && r.review_by_ms <= now_ms
        })?;
        count += page.items.len();
        for record in page.items {
            if first.len() < NAMED_IDS {
                first.push(record.id);
            }
        }
        match page.next_after {
            Some(next) => after = Some(next),
            None => return Ok((count, first)),
        }
    }
}

/// Logs a warning about overdue reviews now and then once every [`REMINDER_INTERVAL`],
/// until `stop` turns true.
pub async fn remind_daily(
    storage: Storage,
    district: String,
    clock: Clock,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let now = clock.now_ms();
        let scan = {
            let storage = storage.clone();
            let district = district.clone();
            tokio::task::spawn_blocking(move || due_for_review(&storage, &district, now)).await
        };
        match scan {
            Ok(Ok((0, _))) => tracing::debug!(%district, "no record is past its review date"),
            Ok(Ok((count, ids))) => tracing::warn!(
                %district,
                count,
                first_ids = %ids.join(", "),
                "records of this district are past their review date; an admin confirms each with `setu record review ID` or expunges it (list them with `setu record list --due-review`)"
            ),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "the review-date reminder could not read the records")
            }
            Err(e) => tracing::error!(error = %e, "the review-date reminder task failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(REMINDER_INTERVAL) => {}
            _ = stop.wait_for(|stopped| *stopped) => return,
        }
    }
}

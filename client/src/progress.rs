//! How far a long import or export has got, on standard error so that standard output stays
//! the command's result: on a terminal a bar with rows per second and the time left; else
//! a plain line every five seconds or every 100 000 rows, for the logs of unattended runs.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a plain progress line is printed at most.
const LINE_EVERY: Duration = Duration::from_secs(5);

/// A plain progress line is also printed each time this many more rows are done.
const LINE_ROWS: u64 = 100_000;

/// The progress display of one command.
pub struct Progress {
    /// What is being done, e.g. "import".
    action: &'static str,
    /// What is counted, e.g. "rows".
    unit: &'static str,
    /// The size of the input, when known, for the share done and the time left.
    total_bytes: Option<u64>,
    started: Instant,
    display: Display,
}

/// A bar, or plain lines.
enum Display {
    Bar(ProgressBar),
    Lines {
        /// When the last line was printed.
        printed_at: Instant,
        /// The count at the last line.
        printed_rows: u64,
    },
}

impl Progress {
    /// Progress of `action` counting `unit`, over `total_bytes` of input when known; a bar
    /// when `terminal` (standard error is a terminal).
    pub fn new(
        action: &'static str,
        unit: &'static str,
        total_bytes: Option<u64>,
        terminal: bool,
    ) -> Self {
        let started = Instant::now();
        let display = if terminal {
            let (bar, template) = match total_bytes {
                Some(total) => (
                    ProgressBar::new(total),
                    "{prefix} [{elapsed_precise}] [{wide_bar}] {percent:>3}% {msg}, {eta} left",
                ),
                None => (
                    ProgressBar::new_spinner(),
                    "{spinner} {prefix} [{elapsed_precise}] {msg}",
                ),
            };
            bar.set_draw_target(ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(action);
            Display::Bar(bar)
        } else {
            Display::Lines {
                printed_at: started,
                printed_rows: 0,
            }
        };
        Progress {
            action,
            unit,
            total_bytes,
            started,
            display,
        }
    }

    /// Reports `rows` done after `bytes` of input.
    pub fn update(&mut self, rows: u64, bytes: u64) {
        let elapsed = self.started.elapsed();
        let rate = per_second(rows, elapsed);
        match &mut self.display {
            Display::Bar(bar) => {
                bar.set_message(format!("{rows} {}, {rate} {}/s", self.unit, self.unit));
                bar.set_position(bytes);
            }
            Display::Lines {
                printed_at,
                printed_rows,
            } => {
                let due = printed_at.elapsed() >= LINE_EVERY
                    || rows / LINE_ROWS > *printed_rows / LINE_ROWS;
                if !due {
                    return;
                }
                *printed_at = Instant::now();
                *printed_rows = rows;
                let mut line = format!(
                    "{}: {rows} {} so far, {rate} {}/s",
                    self.action, self.unit, self.unit
                );
                if let Some(total) = self.total_bytes.filter(|t| *t > 0) {
                    let done = bytes.min(total);
                    line.push_str(&format!(", {}% of the file", done * 100 / total));
                    if done > 0 {
                        let left = elapsed.as_secs_f64() * (total - done) as f64 / done as f64;
                        line.push_str(&format!(", about {} s left", left.ceil() as u64));
                    }
                }
                eprintln!("{line}");
            }
        }
    }

    /// Removes the bar, so that what follows prints on a clean line.
    pub fn finish(&self) {
        if let Display::Bar(bar) = &self.display {
            bar.finish_and_clear();
        }
    }
}

/// A whole-number rate.
fn per_second(count: u64, elapsed: Duration) -> u64 {
    let seconds = elapsed.as_secs_f64();
    if seconds <= 0.0 {
        0
    } else {
        (count as f64 / seconds) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_whole_numbers() {
        assert_eq!(per_second(1000, Duration::from_millis(500)), 2000);
        assert_eq!(per_second(5, Duration::ZERO), 0);
    }
}

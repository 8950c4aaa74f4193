//! Progress bars (bytes, speed, ETA) and status lines on stderr, shown only
//! when stderr is a terminal: piped or in tests the client prints nothing
//! but its results.

use std::io::IsTerminal;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Where progress goes.
#[derive(Clone)]
pub struct Ui {
    bars: Option<MultiProgress>,
}

impl std::fmt::Debug for Ui {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ui")
            .field("visible", &self.bars.is_some())
            .finish()
    }
}

impl Ui {
    /// Bars when stderr is a terminal, nothing otherwise.
    pub fn detect() -> Self {
        if std::io::stderr().is_terminal() {
            Self::visible()
        } else {
            Self::quiet()
        }
    }

    /// Always draws on stderr.
    pub fn visible() -> Self {
        Self {
            bars: Some(MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
        }
    }

    /// Draws nothing (library use, tests, pipes).
    pub fn quiet() -> Self {
        Self { bars: None }
    }

    /// A bar of `total` plaintext bytes under its full label (a file name is
    /// never cut: it is on a line of its own).
    pub fn bytes(&self, label: &str, total: u64) -> ProgressBar {
        let Some(bars) = &self.bars else {
            return ProgressBar::hidden();
        };
        let style = ProgressStyle::with_template(
            "{msg}\n  [{bar:30}] {bytes:>10}/{total_bytes:10} {binary_bytes_per_sec:>12} ETA {eta}",
        )
        .expect("the template is valid")
        .progress_chars("=> ");
        let bar = bars.add(ProgressBar::new(total).with_style(style));
        bar.set_message(label.to_owned());
        bar
    }

    /// A status line ("verifying…"), on stderr, only when visible.
    pub fn note(&self, text: &str) {
        if let Some(bars) = &self.bars {
            let _ = bars.println(text);
        }
    }
}

//! Events `schedc run` reports for scripts and tests beside its statistics:
//! one line of `key=value` words on stderr each (`swap ok from=bpfland
//! to=bpfland gap_us=3100`), which parses back, and the same as a JSON
//! object (`{"event":"swap","outcome":"ok",...}`) for a JSON stream.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What became of a new version of the watched policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SwapOutcome {
    /// The new scheduler runs.
    Ok,
    /// The old scheduler was never detached: the new one did not get that far.
    Kept,
    /// The new scheduler would not attach; the old one was loaded again and runs.
    Restored,
    /// The new scheduler would not attach, nor the old one again: none runs.
    Lost,
}

/// Why a new version did not replace the running scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SwapReason {
    /// The checker found errors.
    PolicyErrors,
    /// clang, or writing the object, failed.
    BuildFailed,
    /// The kernel refused to load it (the verifier, usually).
    LoadFailed,
    /// The kernel refused to attach it.
    AttachFailed,
}

/// One attempt to swap in a new version of the watched policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename = "swap")]
pub struct SwapEvent {
    pub outcome: SwapOutcome,
    /// The scheduler running before.
    pub from: String,
    /// The new scheduler's name, once its policy checked.
    pub to: Option<String>,
    /// Microseconds from detaching the old scheduler to having attached the
    /// new one (or the old one again), on the default scheduler; absent when
    /// nothing was detached.
    pub gap_us: Option<u64>,
    /// Absent when the outcome is `ok`.
    pub reason: Option<SwapReason>,
}

impl SwapOutcome {
    const ALL: [SwapOutcome; 4] = [SwapOutcome::Ok, SwapOutcome::Kept, SwapOutcome::Restored, SwapOutcome::Lost];

    pub fn word(self) -> &'static str {
        match self {
            SwapOutcome::Ok => "ok",
            SwapOutcome::Kept => "kept",
            SwapOutcome::Restored => "restored",
            SwapOutcome::Lost => "lost",
        }
    }
}

impl SwapReason {
    const ALL: [SwapReason; 4] =
        [SwapReason::PolicyErrors, SwapReason::BuildFailed, SwapReason::LoadFailed, SwapReason::AttachFailed];

    pub fn word(self) -> &'static str {
        match self {
            SwapReason::PolicyErrors => "policy-errors",
            SwapReason::BuildFailed => "build-failed",
            SwapReason::LoadFailed => "load-failed",
            SwapReason::AttachFailed => "attach-failed",
        }
    }
}

impl fmt::Display for SwapEvent {
    /// `swap OUTCOME from=NAME [to=NAME] [gap_us=N] [reason=WORD]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "swap {} from={}", self.outcome.word(), self.from)?;
        if let Some(to) = &self.to {
            write!(f, " to={to}")?;
        }
        if let Some(gap) = self.gap_us {
            write!(f, " gap_us={gap}")?;
        }
        if let Some(reason) = self.reason {
            write!(f, " reason={}", reason.word())?;
        }
        Ok(())
    }
}

/// A line that is not a swap event as [`SwapEvent`]'s `Display` writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotASwapEvent;

impl FromStr for SwapEvent {
    type Err = NotASwapEvent;

    fn from_str(line: &str) -> Result<SwapEvent, NotASwapEvent> {
        let mut words = line.split_whitespace();
        if words.next() != Some("swap") {
            return Err(NotASwapEvent);
        }
        let outcome = words.next().ok_or(NotASwapEvent)?;
        let outcome = SwapOutcome::ALL.into_iter().find(|o| o.word() == outcome).ok_or(NotASwapEvent)?;
        let mut event = SwapEvent { outcome, from: String::new(), to: None, gap_us: None, reason: None };
        for word in words {
            match word.split_once('=').ok_or(NotASwapEvent)? {
                ("from", name) => event.from = name.to_string(),
                ("to", name) => event.to = Some(name.to_string()),
                ("gap_us", n) => event.gap_us = Some(n.parse().map_err(|_| NotASwapEvent)?),
                ("reason", r) => {
                    event.reason = Some(SwapReason::ALL.into_iter().find(|x| x.word() == r).ok_or(NotASwapEvent)?)
                }
                _ => return Err(NotASwapEvent),
            }
        }
        if event.from.is_empty() {
            return Err(NotASwapEvent);
        }
        Ok(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_swap_line_parses_back() {
        let ok = SwapEvent {
            outcome: SwapOutcome::Ok,
            from: "bpfland".into(),
            to: Some("fifo".into()),
            gap_us: Some(3100),
            reason: None,
        };
        assert_eq!(ok.to_string(), "swap ok from=bpfland to=fifo gap_us=3100");
        assert_eq!(ok.to_string().parse(), Ok(ok));
        let kept = SwapEvent {
            outcome: SwapOutcome::Kept,
            from: "bpfland".into(),
            to: None,
            gap_us: None,
            reason: Some(SwapReason::PolicyErrors),
        };
        assert_eq!(kept.to_string(), "swap kept from=bpfland reason=policy-errors");
        assert_eq!(kept.to_string().parse(), Ok(kept));
        for bad in
            ["swapped in 3.1 ms", "swap ok", "swap maybe from=x", "swap ok from=x gap_us=fast", "swap ok from=x y"]
        {
            assert_eq!(bad.parse::<SwapEvent>(), Err(NotASwapEvent), "{bad}");
        }
    }

    #[test]
    fn the_json_event_names_itself() {
        let event = SwapEvent {
            outcome: SwapOutcome::Restored,
            from: "a".into(),
            to: Some("b".into()),
            gap_us: Some(12),
            reason: Some(SwapReason::AttachFailed),
        };
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(
            json,
            r#"{"event":"swap","outcome":"restored","from":"a","to":"b","gap_us":12,"reason":"attach-failed"}"#
        );
        assert_eq!(serde_json::from_str::<SwapEvent>(&json).unwrap(), event);
    }
}

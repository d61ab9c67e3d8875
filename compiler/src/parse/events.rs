//! The `on` item: statements run at an event of a task's life.
//!
//! ```text
//! event_decl = { "on" ~ event_name ~ block }
//! event_name = { "join" | "wakeup" | "enqueue" | "runnable" | "running" | "stopping" | "quiescent" | "tick" }
//! ```

use pest::iterators::Pairs;

use super::builder::{required, Builder};
use super::Rule;
use crate::ast::*;

impl Builder {
    pub(super) fn event(&self, mut children: Pairs<Rule>) -> ItemKind {
        let event_pair = required(&mut children);
        let event_span = self.span(&event_pair);
        let event = match event_pair.as_str() {
            "join" => Event::Join,
            "wakeup" => Event::Wakeup,
            "enqueue" => Event::Enqueue,
            "runnable" => Event::Runnable,
            "running" => Event::Running,
            "quiescent" => Event::Quiescent,
            "tick" => Event::Tick,
            _ => Event::Stopping,
        };
        ItemKind::On { event, event_span, body: self.block(required(&mut children)) }
    }
}

//! The `on` item: statements run at an event of a task's life.
//!
//! ```text
//! event_decl  = { "on" ~ (timer_event | event_name) ~ block }
//! event_name  = { "join" | "wakeup" | "enqueue" | "runnable" | "running" | "stopping" | "quiescent" | "tick"
//!               | "cpu_release" }
//! timer_event = { "timer" ~ expr }
//! ```

use pest::iterators::Pairs;

use super::builder::{required, Builder};
use super::Rule;
use crate::ast::*;

impl Builder {
    pub(super) fn event(&self, mut children: Pairs<Rule>) -> ItemKind {
        let event_pair = required(&mut children);
        let event_span = self.span(&event_pair);
        if event_pair.as_rule() == Rule::timer_event {
            let period = self.expr(required(&mut event_pair.into_inner()));
            return ItemKind::Timer { period, timer_span: event_span, body: self.block(required(&mut children)) };
        }
        // The grammar admits only the events' keywords.
        let event = Event::ALL.into_iter().find(|e| e.keyword() == event_pair.as_str()).expect("an event keyword");
        ItemKind::On { event, event_span, body: self.block(required(&mut children)) }
    }
}

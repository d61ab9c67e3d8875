//! The `preempt` item: the class whose waking tasks preempt lower classes.
//!
//! ```text
//! preempt_decl = { "preempt" ~ ident ~ preempt_at? }
//! preempt_at   = { "at" ~ ("lowest" | expr) }
//! ```

use pest::iterators::Pairs;

use super::builder::{required, Builder};
use super::Rule;
use crate::ast::*;

impl Builder {
    pub(super) fn preempt(&self, mut children: Pairs<Rule>) -> ItemKind {
        let class = self.ident(required(&mut children));
        let victim = match children.next() {
            None => PreemptVictim::TaskCpu,
            Some(at) => {
                let target = required(&mut at.into_inner());
                if target.as_rule() == Rule::lowest_cpu {
                    PreemptVictim::Lowest(self.span(&target))
                } else {
                    PreemptVictim::At(self.expr(target))
                }
            }
        };
        ItemKind::Preempt { class, victim }
    }
}

//! The `task` and `global` items: per-task and scheduler-wide variables.
//!
//! ```text
//! task_decl   = { "task" ~ ident ~ ":" ~ type_name ~ "=" ~ expr }
//! global_decl = { "global" ~ ident ~ ":" ~ type_name ~ "=" ~ expr }
//! ```

use pest::iterators::Pairs;

use super::builder::{required, Builder};
use super::Rule;
use crate::ast::*;

impl Builder {
    pub(super) fn state(&self, scope: Scope, mut children: Pairs<Rule>) -> ItemKind {
        let name = self.ident(required(&mut children));
        let ty = self.type_name(required(&mut children));
        let init = self.expr(required(&mut children));
        ItemKind::State { scope, name, ty, init }
    }
}

impl Builder {
    /// `cpuset NAME = 0-3, 6 ["doc" | dynamic]`.
    pub(super) fn cpuset(&self, mut children: Pairs<Rule>) -> ItemKind {
        let name = self.ident(required(&mut children));
        let mut ranges = Vec::new();
        let mut doc = None;
        let mut dynamic = false;
        for r in children {
            let span = self.span(&r);
            match r.as_rule() {
                Rule::all_cpus => ranges.push(CpuRange::all(span)),
                Rule::string => doc = Some(self.string(r)),
                Rule::dynamic_set => dynamic = true,
                _ => {
                    let mut ends = r.into_inner().map(|d| super::expr::parse_digits(d.as_str()));
                    let low = ends.next().expect("first CPU");
                    ranges.push(CpuRange { low, high: ends.next().unwrap_or(low), span });
                }
            }
        }
        ItemKind::CpuSet { name, ranges, doc, dynamic }
    }
}

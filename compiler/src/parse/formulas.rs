//! The `slice` and `vtime` items: formulas, a single expression or a block ending in one.
//!
//! ```text
//! slice_decl = { "slice" ~ formula }
//! vtime_decl = { "vtime" ~ vtime_part ~ formula }
//! vtime_part = { "charge" | "lag" | "deadline" }
//! formula    = { ("=" ~ expr) | ("{" ~ stmt* ~ expr ~ "}") }
//! ```

use pest::iterators::{Pair, Pairs};

use super::builder::{required, Builder};
use super::Rule;
use crate::ast::*;

impl Builder {
    pub(super) fn slice(&self, mut children: Pairs<Rule>) -> ItemKind {
        ItemKind::Slice(self.formula(required(&mut children)))
    }

    pub(super) fn vtime(&self, mut children: Pairs<Rule>) -> ItemKind {
        let part = match required(&mut children).as_str() {
            "charge" => VtimePart::Charge,
            "lag" => VtimePart::Lag,
            _ => VtimePart::Deadline,
        };
        ItemKind::Vtime { part, formula: self.formula(required(&mut children)) }
    }

    fn formula(&self, pair: Pair<Rule>) -> Formula {
        let mut stmts = Vec::new();
        let mut result = None;
        for child in pair.into_inner() {
            if child.as_rule() == Rule::expr {
                result = Some(self.expr(child));
            } else {
                stmts.push(self.stmt(child));
            }
        }
        Formula { stmts, result: result.expect("a formula ends in an expression") }
    }
}

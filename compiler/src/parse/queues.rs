//! The `queue` item: a dispatch queue, shared or per CPU, in arrival or vruntime order.
//!
//! ```text
//! queue_decl = { "queue" ~ ident ~ placement ~ order }
//! placement  = { "per_cpu" | "per_llc" | "per_node" | "shared" }
//! order      = { "fifo" | "vtime" }
//! ```

use pest::iterators::Pairs;

use super::builder::{required, Builder};
use super::Rule;
use crate::ast::*;

impl Builder {
    pub(super) fn queue(&self, mut children: Pairs<Rule>) -> ItemKind {
        let name = self.ident(required(&mut children));
        let placement = match required(&mut children).as_str() {
            "per_cpu" => Placement::PerCpu,
            "per_llc" => Placement::PerLlc,
            "per_node" => Placement::PerNode,
            _ => Placement::Shared,
        };
        let order = if required(&mut children).as_str() == "fifo" { Order::Fifo } else { Order::Vtime };
        ItemKind::Queue { name, placement, order }
    }
}

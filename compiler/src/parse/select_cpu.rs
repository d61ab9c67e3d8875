//! The `select_cpu` item: where a waking task looks for an idle CPU.
//!
//! ```text
//! select_decl    = { "select_cpu" ~ "{" ~ (select_default | preference)+ ~ found ~ "}" }
//! select_default = { "default" }
//! preference     = { pref_kind ~ within? ~ when? }
//! within         = { "in" ~ ident }
//! pref_kind      = { "pinned" | "prev_core" | "idle_core" | "prev" | "any" }
//! when           = { "when" ~ expr }
//! found          = { "found" ~ when? ~ "->" ~ ident ~ kick? }
//! kick           = { "kick" }
//! ```

use pest::iterators::Pairs;

use super::builder::Builder;
use super::Rule;
use crate::ast::*;
use crate::diag::{Code, Diagnostic};

impl Builder {
    pub(super) fn select_cpu(&self, children: Pairs<Rule>) -> ItemKind {
        let mut select = SelectCpu {
            preferences: Vec::new(),
            default_span: None,
            found_when: None,
            found_queue: Ident { name: String::new(), span: Span::default() },
            kick: false,
            found_span: Span::default(),
        };
        for pair in children {
            match pair.as_rule() {
                Rule::select_default => select.default_span = Some(self.span(&pair)),
                Rule::preference => {
                    let span = self.span(&pair);
                    let mut inner = pair.into_inner();
                    let word = inner.next().expect("preference kind").as_str();
                    let kind = PreferenceKind::from_keyword(word).expect("the grammar's preference words");
                    let mut inner = inner.peekable();
                    let within = match inner.peek() {
                        Some(w) if w.as_rule() == Rule::within => {
                            let w = inner.next().expect("within");
                            Some(self.ident(w.into_inner().next().expect("set after in")))
                        }
                        _ => None,
                    };
                    let when = inner.next().map(|w| self.expr(w.into_inner().next().expect("when condition")));
                    select.preferences.push(Preference { kind, within, when, span });
                }
                _ => {
                    select.found_span = self.span(&pair);
                    let mut inner = pair.into_inner().peekable();
                    if inner.peek().is_some_and(|p| p.as_rule() == Rule::when) {
                        let when = inner.next().expect("when").into_inner().next().expect("when condition");
                        select.found_when = Some(self.expr(when));
                    }
                    select.found_queue = self.ident(inner.next().expect("found queue"));
                    select.kick = inner.next().is_some();
                }
            }
        }
        // `default` may close a list of preferences: the kernel's choice
        // when none of them found a CPU.
        let after = select.default_span.and_then(|d| select.preferences.iter().find(|p| p.span.start > d.start));
        if let (Some(default), Some(later)) = (select.default_span, after) {
            self.refuse(
                Diagnostic::new(Code::Syntax, default, "`default` must be the last preference")
                    .label("the kernel's own choice")
                    .related(later.span, "a preference after it, never tried")
                    .help("move `default` below the other preferences: they are tried first, and the kernel chooses when none finds an idle CPU"),
            );
        }
        ItemKind::SelectCpu(select)
    }
}

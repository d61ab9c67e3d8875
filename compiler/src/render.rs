//! Rendering: the IR laid out as C through the askama template
//! `templates/scheduler.bpf.c`. No decisions are taken here.

use askama::Template;

use crate::ir::Program;

#[derive(Template)]
#[template(path = "scheduler.bpf.c", escape = "none")]
struct SchedulerC<'a> {
    p: &'a Program,
    /// The description, made safe for a C comment.
    description: String,
}

/// The C source of the scheduler.
pub fn render(program: &Program) -> String {
    let description = program.description.replace("*/", "* /");
    let mut text = SchedulerC { p: program, description }.render().expect("the template only reads plain fields");
    // Blank lines inside bodies are written as empty strings; trailing
    // white space never reaches the output.
    text = text.lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
    text.push('\n');
    text
}

//! `schedc completions` and `schedc man`: shell completions and the manual
//! page, generated from the command-line definitions.

use std::io::Write;
use std::process::ExitCode;

use crate::error::CliError;

pub fn completions(shell: clap_complete::Shell, mut cli: clap::Command) -> ExitCode {
    let name = cli.get_name().to_string();
    clap_complete::generate(shell, &mut cli, name, &mut std::io::stdout());
    ExitCode::SUCCESS
}

/// The roff page of `schedc` with a section per subcommand.
pub fn man(cli: clap::Command) -> Result<ExitCode, CliError> {
    let mut page = Vec::new();
    let man = clap_mangen::Man::new(cli.clone());
    let written = man.render_title(&mut page).and_then(|()| {
        man.render_name_section(&mut page)?;
        man.render_synopsis_section(&mut page)?;
        man.render_description_section(&mut page)?;
        man.render_options_section(&mut page)?;
        man.render_subcommands_section(&mut page)?;
        for sub in cli.get_subcommands().filter(|s| !s.is_hide_set()) {
            subcommand_section(&mut page, sub)?;
        }
        man.render_version_section(&mut page)
    });
    written
        .and_then(|()| std::io::stdout().write_all(&page))
        .map_err(|source| CliError::Write { path: "<stdout>".into(), source })?;
    Ok(ExitCode::SUCCESS)
}

/// One subcommand's synopsis, description and options, under its own
/// heading, so that the single page documents every command in full.
fn subcommand_section(page: &mut Vec<u8>, sub: &clap::Command) -> std::io::Result<()> {
    let name = format!("schedc {}", sub.get_name());
    writeln!(page, ".SH \"SCHEDC {}\"", sub.get_name().to_uppercase())?;
    let man = clap_mangen::Man::new(sub.clone().bin_name(name));
    let mut body = Vec::new();
    man.render_synopsis_section(&mut body)?;
    man.render_description_section(&mut body)?;
    man.render_options_section(&mut body)?;
    // The parts render as sections of their own; in the full page they are
    // subsections of this subcommand's.
    let body = String::from_utf8_lossy(&body).replace(".SH ", ".SS ");
    page.write_all(body.as_bytes())
}

//! `schedc completions SHELL` and `schedc man`: generated from the command
//! line's definitions, they name every subcommand and its options.

mod cli;

#[test]
fn the_command_list_is_complete() {
    let names = cli::subcommands();
    for expected in ["check", "compile", "run", "fmt", "explain", "completions", "man"] {
        assert!(names.iter().any(|n| n == expected), "`schedc --help` lists no {expected}: {names:?}");
    }
}

#[test]
fn every_shell_completes_every_subcommand_and_the_new_options() {
    for shell in ["bash", "zsh", "fish"] {
        let run = cli::schedc(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        for name in cli::subcommands() {
            assert!(run.stdout.contains(&name), "{shell} completion lacks `{name}`");
        }
        for option in ["message-format", "deny-warnings", "check", "emit"] {
            assert!(run.stdout.contains(option), "{shell} completion lacks `{option}`");
        }
    }
    let unknown = cli::schedc(&["completions", "tcsh"]);
    assert_ne!(unknown.code, 0, "an unknown shell is refused");
}

#[test]
fn the_manual_page_documents_every_subcommand() {
    let run = cli::schedc(&["man"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let page = run.stdout;
    assert!(page.starts_with(".ie") || page.starts_with(".TH"), "roff: {}", &page[..page.len().min(200)]);
    assert!(page.contains(".TH schedc 1"), "the title names the page");
    for name in cli::subcommands() {
        let heading = format!(".SH \"SCHEDC {}\"", name.to_uppercase());
        assert!(page.contains(&heading), "no section {heading}");
    }
    for text in ["\\-\\-message\\-format", "\\-\\-deny\\-warnings", "canonical layout", "plain sentences"] {
        assert!(page.contains(text), "the page does not mention {text}");
    }
}

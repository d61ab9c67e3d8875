//! `schedc lsp`: a language server over stdio. It keeps the text of every
//! open policy, publishes the checker's diagnostics on each change, and
//! answers hover, definition, references and completion from the compiler's
//! [`analysis`](schedc_compiler::analysis). Synchronous: one request at a time.

mod convert;
mod position;

use std::collections::HashMap;
use std::error::Error;
use std::process::ExitCode;

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, Notification as _, PublishDiagnostics,
};
use lsp_types::request::{Completion, GotoDefinition, HoverRequest, References, Request as _};
use lsp_types::{
    CompletionOptions, CompletionParams, CompletionResponse, DidChangeTextDocumentParams, DidCloseTextDocumentParams,
    DidOpenTextDocumentParams, GotoDefinitionParams, GotoDefinitionResponse, HoverParams, HoverProviderCapability,
    Location, OneOf, PositionEncodingKind, PublishDiagnosticsParams, ReferenceParams, ServerCapabilities,
    TextDocumentPositionParams, TextDocumentSyncCapability, TextDocumentSyncKind, Uri,
};
use schedc_compiler::analysis::Analysis;
use schedc_compiler::source::Source;

type Result<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

/// Serves one client on stdin/stdout until it says `shutdown` and `exit`.
pub fn serve() -> ExitCode {
    let (connection, io_threads) = Connection::stdio();
    let served = run(&connection).and_then(|()| {
        // The writer thread ends once every sender is gone; the reader ended at `exit`.
        drop(connection);
        io_threads.join().map_err(Into::into)
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        // Without joining: the reader thread may still be waiting on stdin.
        Err(e) => {
            eprintln!("schedc lsp: {e}");
            ExitCode::FAILURE
        }
    }
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(PositionEncodingKind::UTF16),
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".to_string(), ">".to_string()]),
            ..CompletionOptions::default()
        }),
        ..ServerCapabilities::default()
    }
}

fn run(connection: &Connection) -> Result<()> {
    connection.initialize(serde_json::to_value(capabilities())?)?;
    let mut server = Server { documents: HashMap::new() };
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection.handle_shutdown(&request)? {
                    return Ok(());
                }
                connection.sender.send(server.answer(request).into())?;
            }
            Message::Notification(notification) => match server.notice(notification) {
                Ok(published) => {
                    for notification in published {
                        connection.sender.send(notification.into())?;
                    }
                }
                // A notification cannot be answered with an error: say it and go on.
                Err(e) => eprintln!("schedc lsp: ignored a malformed notification: {e}"),
            },
            Message::Response(_) => {}
        }
    }
    // The protocol asks for a failing exit when the client leaves without `shutdown`.
    Err("the editor closed the connection without `shutdown`".into())
}

/// One version of an open policy, with what is derived from its text.
struct Document {
    source: Source,
    analysis: Analysis,
}

impl Document {
    fn new(name: &str, text: &str) -> Self {
        Document { source: Source::new(name, text), analysis: Analysis::new(text) }
    }
}

struct Server {
    documents: HashMap<Uri, Document>,
}

impl Server {
    /// Handles a notification; returns the diagnostics to publish.
    fn notice(&mut self, notification: Notification) -> Result<Vec<Notification>> {
        let (uri, text) = match notification.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let params: DidOpenTextDocumentParams = serde_json::from_value(notification.params)?;
                (params.text_document.uri, Some(params.text_document.text))
            }
            DidChangeTextDocument::METHOD => {
                let params: DidChangeTextDocumentParams = serde_json::from_value(notification.params)?;
                let Some(mut text) = self.documents.get(&params.text_document.uri).map(|d| d.source.text().to_string())
                else {
                    return Ok(Vec::new());
                };
                for change in params.content_changes {
                    convert::apply_change(&mut text, change);
                }
                (params.text_document.uri, Some(text))
            }
            DidCloseTextDocument::METHOD => {
                let params: DidCloseTextDocumentParams = serde_json::from_value(notification.params)?;
                (params.text_document.uri, None)
            }
            _ => return Ok(Vec::new()),
        };
        let diagnostics = match text {
            Some(text) => {
                let document = Document::new(convert::file_name(&uri), &text);
                let diagnostics = convert::diagnostics(&uri, &document.source);
                self.documents.insert(uri.clone(), document);
                diagnostics
            }
            // A closed file's diagnostics go away with it.
            None => {
                self.documents.remove(&uri);
                Vec::new()
            }
        };
        let params = PublishDiagnosticsParams { uri, diagnostics, version: None };
        Ok(vec![Notification::new(PublishDiagnostics::METHOD.to_string(), params)])
    }

    fn answer(&self, request: Request) -> Response {
        let id = request.id.clone();
        let result = match request.method.as_str() {
            HoverRequest::METHOD => self.hover(request.params),
            GotoDefinition::METHOD => self.definition(request.params),
            References::METHOD => self.references(request.params),
            Completion::METHOD => self.completion(request.params),
            other => {
                return Response::new_err(id, ErrorCode::MethodNotFound as i32, format!("schedc lsp cannot `{other}`"));
            }
        };
        match result {
            Ok(value) => Response::new_ok(id, value),
            Err(e) => Response::new_err(id, ErrorCode::InvalidParams as i32, e.to_string()),
        }
    }

    /// The document and byte offset a request is about.
    fn locate(&self, at: &TextDocumentPositionParams) -> Option<(&Document, usize)> {
        let document = self.documents.get(&at.text_document.uri)?;
        Some((document, position::offset(&document.source, at.position)))
    }

    fn hover(&self, params: serde_json::Value) -> Result<serde_json::Value> {
        let params: HoverParams = serde_json::from_value(params)?;
        let hover = self.locate(&params.text_document_position_params).and_then(|(document, offset)| {
            let hover = document.analysis.hover(offset)?;
            Some(convert::hover(&hover, &document.source))
        });
        Ok(serde_json::to_value(hover)?)
    }

    fn definition(&self, params: serde_json::Value) -> Result<serde_json::Value> {
        let params: GotoDefinitionParams = serde_json::from_value(params)?;
        let at = &params.text_document_position_params;
        let location = self.locate(at).and_then(|(document, offset)| {
            let span = document.analysis.definition(offset)?;
            let range = position::range(&document.source, span);
            Some(GotoDefinitionResponse::Scalar(Location::new(at.text_document.uri.clone(), range)))
        });
        Ok(serde_json::to_value(location)?)
    }

    fn references(&self, params: serde_json::Value) -> Result<serde_json::Value> {
        let params: ReferenceParams = serde_json::from_value(params)?;
        let at = &params.text_document_position;
        let locations = self.locate(at).map(|(document, offset)| {
            let spans = document.analysis.references(offset, params.context.include_declaration);
            let range = |span| position::range(&document.source, span);
            spans.into_iter().map(|span| Location::new(at.text_document.uri.clone(), range(span))).collect::<Vec<_>>()
        });
        Ok(serde_json::to_value(locations)?)
    }

    fn completion(&self, params: serde_json::Value) -> Result<serde_json::Value> {
        let params: CompletionParams = serde_json::from_value(params)?;
        let items = self.locate(&params.text_document_position).map(|(document, offset)| {
            let candidates = document.analysis.completions(offset);
            CompletionResponse::Array(candidates.iter().map(convert::completion_item).collect())
        });
        Ok(serde_json::to_value(items)?)
    }
}

//! The one place YAML is read and written.
//!
//! Reading builds [`Node`] documents from granit-parser events (the parser under
//! serde-saphyr) so that every limit is ours to enforce: alias expansion, nesting depth, document
//! count, duplicate keys. Scalars are typed by the YAML 1.2 core schema; plain scalars that
//! Kubernetes' YAML 1.1 reader would type differently (`on`, `yes`, `0755`) are reported as
//! warnings so the author can quote them (https://yaml.org/type/bool.html).
//!
//! Writing goes through serde-saphyr, which quotes every scalar a YAML 1.1 reader would
//! misread, so kubectl reads our output back unchanged (sigs.k8s.io/yaml).

use crate::node::{Key, Node, NodeMap};
use granit_parser::{Event, Parser, ScalarStyle, ScanError, Span};
use serde_json::{Number, Value};
use std::collections::{HashMap, HashSet};

/// Resource limits applied while parsing one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct YamlLimits {
    /// Documents in one file.
    pub max_documents: usize,
    /// Nesting depth of collections.
    pub max_depth: usize,
    /// Nodes created by alias expansion, per file.
    pub max_alias_nodes: usize,
    /// Nodes per file, aliases included.
    pub max_nodes: usize,
}

impl Default for YamlLimits {
    fn default() -> Self {
        YamlLimits {
            max_documents: 10_000,
            max_depth: 64,
            max_alias_nodes: 10_000,
            max_nodes: 2_000_000,
        }
    }
}

/// A position in a source file (1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl Pos {
    fn from_span(span: &Span) -> Pos {
        Pos {
            line: span.start.line() as u32,
            column: span.start.col() as u32 + 1,
        }
    }
}

/// One parsed YAML document.
#[derive(Debug, Clone)]
pub struct Document {
    /// 0-based index of the document in its file (empty documents count).
    pub index: usize,
    /// Where the document's root node starts.
    pub pos: Pos,
    /// The document content.
    pub value: Node,
    /// Length of the longest sequence built for the document: a bound on any list in
    /// `value`, exact unless a merge key (`<<`) dropped a longer one (policy cost estimates).
    pub max_list: usize,
}

/// A non-fatal observation made while parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlWarning {
    /// Where the scalar is.
    pub pos: Pos,
    /// What a reader should know.
    pub message: String,
}

/// A YAML error with its position.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{message}")]
pub struct YamlError {
    /// Where the problem is.
    pub pos: Pos,
    /// What is wrong.
    pub message: String,
}

/// The result of parsing one file.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Non-empty documents, in order.
    pub documents: Vec<Document>,
    /// YAML 1.1 ambiguities and similar notes.
    pub warnings: Vec<YamlWarning>,
}

/// Parses a multi-document YAML stream. Empty documents are skipped.
pub fn parse_stream(text: &str, limits: &YamlLimits) -> Result<Parsed, YamlError> {
    let mut b = Builder::new(text, limits, false);
    b.run()?;
    Ok(Parsed {
        documents: b.docs,
        warnings: b.warnings,
    })
}

/// One document's text in a stream split at its `---` lines ([`split_documents`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// Byte range of the text between two marker lines (markers excluded).
    pub range: std::ops::Range<usize>,
    /// 1-based line of the range's first line.
    pub line: u32,
    /// 1-based line just after the range (the next marker's).
    pub end_line: u32,
    /// The parser's index of the document it holds (`Document::index`); `None` for text before
    /// the first marker that holds only comments and blank lines, which is no document.
    pub index: Option<usize>,
}

/// Splits a stream into its documents' texts without parsing it, where that split is surely
/// the parser's: every marker line is exactly `---`, and nothing else could end or start a
/// document or make one depend on another: no directive (`%`), no `...`, no marker with
/// content after it, no anchor (`&`, so no alias reaches across documents), no CR, no BOM.
/// A marker line always ends the node before it (YAML 1.2, section 9.1.4, c-forbidden), so a
/// quoted scalar or flow collection that runs across one does not parse as a piece of its
/// own either. `None` for any other stream, and when the limits could be reached: more
/// pieces than `max_documents`, or more bytes than `max_nodes` (without aliases a node
/// takes at least a byte). Each piece parsed alone gives the document the whole stream
/// gives at that index, its lines counted from `line`.
pub fn split_documents(text: &str, limits: &YamlLimits) -> Option<Vec<Piece>> {
    if text.starts_with('\u{feff}')
        || text.len() > limits.max_nodes
        || text.contains('&')
        || text.contains('\r')
    {
        return None;
    }
    let mut pieces = Vec::new();
    let (mut start, mut start_line) = (0usize, 1u32);
    let mut offset = 0usize;
    let mut line = 1u32;
    // Whether the text before the first marker holds a node (an implicit document).
    let mut first_has_content = false;
    for l in text.split_inclusive('\n') {
        let body = l.strip_suffix('\n').unwrap_or(l);
        if body.starts_with('%') || body.starts_with("...") {
            return None;
        }
        if body.starts_with("---") {
            if body != "---" {
                return None;
            }
            pieces.push((start..offset, start_line, line));
            start = offset + l.len();
            start_line = line + 1;
        } else if pieces.is_empty() {
            let t = body.trim_start();
            first_has_content |= !t.is_empty() && !t.starts_with('#');
        }
        offset += l.len();
        line += 1;
    }
    pieces.push((start..text.len(), start_line, line));
    if pieces.len() > limits.max_documents {
        return None;
    }
    let skip = usize::from(!first_has_content);
    Some(
        pieces
            .into_iter()
            .enumerate()
            .map(|(k, (range, line, end_line))| Piece {
                range,
                line,
                end_line,
                index: k.checked_sub(skip),
            })
            .collect(),
    )
}

/// Counts the parser's events over `text` and builds nothing: the mandated parser's own cost,
/// the floor under [`parse_stream`] (`cargo bench --bench stages`, `z_floor_parse`).
pub fn event_count(text: &str, limits: &YamlLimits) -> Result<usize, YamlError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parser = Parser::new_from_str_with_options(text, parser_options(limits));
    let mut n = 0;
    while let Some(ev) = parser.next_event() {
        ev.map_err(|e| scan_err(&e, limits))?;
        n += 1;
    }
    Ok(n)
}

/// Returns the position of every node of document `index`, keyed by JSON pointer
/// (`/spec/ports/1/number`). Used to point diagnostics at a field; it re-parses the text, which
/// is cheap next to printing a diagnostic.
pub fn positions(text: &str, index: usize, limits: &YamlLimits) -> HashMap<String, Pos> {
    let mut b = Builder::new(text, limits, true);
    b.only_doc = Some(index);
    let _ = b.run();
    b.positions
}

/// What `positions` appends to a mapping value's pointer for the position of its key.
const KEY: char = '\0';

/// Finds the position of the deepest existing node along `pointer` in document `index`.
pub fn locate(text: &str, index: usize, pointer: &str, limits: &YamlLimits) -> Option<Pos> {
    locate_with(text, index, pointer, limits, false)
}

/// As `locate`, with the key's position when `pointer` ends at a mapping entry (`a: {b: 1}`
/// written on two lines: the `a:` line, not the `b:` one).
fn locate_with(
    text: &str,
    index: usize,
    pointer: &str,
    limits: &YamlLimits,
    key: bool,
) -> Option<Pos> {
    let map = positions(text, index, limits);
    if key {
        if let Some(pos) = map.get(&format!("{pointer}{KEY}")) {
            return Some(*pos);
        }
    }
    let mut p = pointer.to_string();
    loop {
        if let Some(pos) = map.get(&p) {
            return Some(*pos);
        }
        match p.rfind('/') {
            Some(i) => p.truncate(i),
            None => return map.get("").copied(),
        }
    }
}

/// Where each document of `text` starts (empty ones included, as `Document::index` counts):
/// the byte offset of its first line and that line's 0-based number. One pass over the
/// events; callers cache it so that locating many fields stays linear (see `locate_in`).
pub fn document_starts(text: &str, limits: &YamlLimits) -> Vec<(usize, u32)> {
    // Where the stream splits surely at its `---` lines and no document is empty, each piece
    // starts a document: no parse needed. (Parsed from an empty piece, the next document
    // would be the first.)
    if let Some(pieces) = split_documents(text, limits) {
        let blank = |p: &Piece| {
            text[p.range.clone()].lines().all(|l| {
                let l = l.trim_start();
                l.is_empty() || l.starts_with('#')
            })
        };
        let docs: Vec<&Piece> = pieces.iter().filter(|p| p.index.is_some()).collect();
        let dense = docs.iter().enumerate().all(|(n, p)| p.index == Some(n));
        if dense && !docs.iter().any(|p| blank(p)) {
            return docs.iter().map(|p| (p.range.start, p.line - 1)).collect();
        }
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut line_starts = vec![0usize];
    line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    let mut parser = Parser::new_from_str_with_options(text, parser_options(limits));
    let mut out = Vec::new();
    while let Some(Ok((event, span))) = parser.next_event() {
        if let Event::DocumentStart(..) = event {
            let line = span.start.line().max(1);
            let byte = line_starts.get(line - 1).copied().unwrap_or(0);
            out.push((byte, (line - 1) as u32));
        }
    }
    out
}

/// As `locate`, parsing only from the document's start (from `document_starts`), so the cost
/// is that of the document, not of the file. Falls back to `locate` when it finds nothing.
pub fn locate_in(
    text: &str,
    starts: &[(usize, u32)],
    index: usize,
    pointer: &str,
    limits: &YamlLimits,
) -> Option<Pos> {
    locate_in_with(text, starts, index, pointer, limits, false)
}

/// As `locate_in`, with the key's position when `pointer` ends at a mapping entry.
pub fn locate_key_in(
    text: &str,
    starts: &[(usize, u32)],
    index: usize,
    pointer: &str,
    limits: &YamlLimits,
) -> Option<Pos> {
    locate_in_with(text, starts, index, pointer, limits, true)
}

fn locate_in_with(
    text: &str,
    starts: &[(usize, u32)],
    index: usize,
    pointer: &str,
    limits: &YamlLimits,
    key: bool,
) -> Option<Pos> {
    let stripped = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(&(byte, line0)) = starts.get(index) {
        if let Some(rest) = stripped.get(byte..) {
            if let Some(p) = locate_with(rest, 0, pointer, limits, key) {
                return Some(Pos {
                    line: p.line + line0,
                    column: p.column,
                });
            }
        }
    }
    locate_with(text, index, pointer, limits, key)
}

/// The parser's options: our depth limit, and no comment events. serde-saphyr turns on
/// granit-parser's `comments` feature, which makes comment emission the default; we never read
/// comments, and skipping them saves capturing their text and a token lookahead per event
/// (granit-parser 2.2 `Options::set_emit_comments`: "comments are still recognized and
/// validated, but their text is not captured").
fn parser_options(limits: &YamlLimits) -> granit_parser::Options {
    let mut opts = granit_parser::Options::default();
    opts.block_nesting_limit = limits.max_depth.max(1);
    opts.flow_nesting_limit = limits.max_depth.max(1);
    opts.set_emit_comments(false);
    opts
}

/// A value could not be written as YAML: the serializer's message. Kept as text so that an
/// object's failed document can be held, cloned and compared like a written one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EmitError(String);

impl From<serde_saphyr::SerializeError> for EmitError {
    fn from(e: serde_saphyr::SerializeError) -> Self {
        EmitError(e.to_string())
    }
}

/// Serializes one value as a YAML document (no leading `---`).
pub fn to_string<T: serde::Serialize>(value: &T) -> Result<String, EmitError> {
    Ok(serde_saphyr::to_string(value)?)
}

/// Appends one value as a YAML document (no leading `---`) to `out`.
pub fn write_to(out: &mut String, value: &Value) -> Result<(), EmitError> {
    Ok(serde_saphyr::to_fmt_writer(out, value)?)
}

/// Escapes a map key or array index for a JSON pointer (RFC 6901).
pub fn pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

// ---------------------------------------------------------------------------------------------

/// An open collection. Its children wait in the builder's shared `items`/`entries` stacks
/// from `start` on, so no collection grows its own allocation one child at a time: each is
/// built once, at its exact size, when it ends.
enum Frame {
    Seq {
        start: usize,
        anchor: usize,
        ptr: String,
    },
    Map {
        start: usize,
        key: Option<Key>,
        anchor: usize,
        ptr: String,
        merges: Vec<Node>,
        /// The explicit keys, once the mapping is too wide for a linear duplicate check.
        wide: Option<HashSet<Key>>,
    },
}

/// Up to this many keys a mapping's duplicate check scans its keys; past it, a hash set.
/// Most Kubernetes mappings have 1-8 keys, where a scan beats hashing the key.
const LINEAR_KEYS: usize = 16;

struct Builder<'a> {
    text: &'a str,
    limits: &'a YamlLimits,
    record: bool,
    only_doc: Option<usize>,
    docs: Vec<Document>,
    warnings: Vec<YamlWarning>,
    positions: HashMap<String, Pos>,
    anchors: HashMap<usize, Node>,
    /// Each distinct key of the file once, shared by every map that uses it.
    keys: crate::node::Keys,
    stack: Vec<Frame>,
    /// Children of the open sequences, innermost last.
    items: Vec<Node>,
    /// Explicit entries of the open mappings, innermost last.
    entries: Vec<(Key, Node)>,
    doc_index: usize,
    doc_pos: Option<Pos>,
    doc_max_list: usize,
    root: Option<Node>,
    alias_nodes: usize,
    nodes: usize,
}

fn err(pos: Pos, message: impl Into<String>) -> YamlError {
    YamlError {
        pos,
        message: message.into(),
    }
}

fn scan_err(e: &ScanError, limits: &YamlLimits) -> YamlError {
    let m = e.marker();
    let pos = Pos {
        line: m.line() as u32,
        column: m.col() as u32 + 1,
    };
    // The parser enforces our depth limit itself; say which limit it was.
    if matches!(e.kind(), granit_parser::ErrorKind::RecursionLimitExceeded) {
        return depth_err(pos, limits);
    }
    err(pos, e.info())
}

fn depth_err(pos: Pos, limits: &YamlLimits) -> YamlError {
    err(
        pos,
        format!(
            "nesting deeper than {} levels (limits.yamlDepth)",
            limits.max_depth
        ),
    )
}

impl<'a> Builder<'a> {
    fn new(text: &'a str, limits: &'a YamlLimits, record: bool) -> Self {
        Builder {
            text,
            limits,
            record,
            only_doc: None,
            docs: Vec::new(),
            warnings: Vec::new(),
            positions: HashMap::new(),
            anchors: HashMap::new(),
            keys: HashSet::default(),
            stack: Vec::new(),
            items: Vec::new(),
            entries: Vec::new(),
            doc_index: 0,
            doc_pos: None,
            doc_max_list: 0,
            root: None,
            alias_nodes: 0,
            nodes: 0,
        }
    }

    fn recording(&self) -> bool {
        self.record && self.only_doc.is_none_or(|d| d == self.doc_index)
    }

    /// The JSON pointer of the node about to be added.
    fn child_ptr(&self) -> String {
        match self.stack.last() {
            None => String::new(),
            Some(Frame::Seq { start, ptr, .. }) => format!("{ptr}/{}", self.items.len() - start),
            Some(Frame::Map {
                key: Some(k), ptr, ..
            }) => format!("{ptr}/{}", pointer_escape(k)),
            Some(Frame::Map { ptr, .. }) => ptr.clone(),
        }
    }

    fn run(&mut self) -> Result<(), YamlError> {
        let text = self.text.strip_prefix('\u{feff}').unwrap_or(self.text);
        let mut parser = Parser::new_from_str_with_options(text, parser_options(self.limits));
        while let Some(ev) = parser.next_event() {
            let (event, span) = ev.map_err(|e| scan_err(&e, self.limits))?;
            let pos = Pos::from_span(&span);
            match event {
                Event::StreamStart | Event::StreamEnd => {}
                Event::DocumentStart(..) => {
                    self.anchors.clear();
                    self.root = None;
                    self.doc_pos = None;
                    self.doc_max_list = 0;
                }
                Event::DocumentEnd => {
                    if let Some(value) = self.root.take() {
                        if !value.is_null() {
                            if self.docs.len() >= self.limits.max_documents {
                                return Err(err(
                                    pos,
                                    format!(
                                        "more than {} documents in one file (limits.yamlDocuments)",
                                        self.limits.max_documents
                                    ),
                                ));
                            }
                            self.docs.push(Document {
                                index: self.doc_index,
                                pos: self.doc_pos.unwrap_or(pos),
                                value,
                                max_list: self.doc_max_list,
                            });
                        }
                    }
                    self.doc_index += 1;
                    if self.only_doc.is_some_and(|d| d < self.doc_index) {
                        return Ok(());
                    }
                }
                Event::Alias(id) => {
                    let v = self.anchors.get(&id).cloned().ok_or_else(|| {
                        err(
                            pos,
                            "alias refers to an anchor not defined in this document",
                        )
                    })?;
                    let n = v.count();
                    self.alias_nodes += n;
                    if self.alias_nodes > self.limits.max_alias_nodes {
                        return Err(err(
                            pos,
                            format!(
                                "alias expansion exceeds {} nodes (limits.yamlAliasNodes); \
                                 is this an alias bomb?",
                                self.limits.max_alias_nodes
                            ),
                        ));
                    }
                    self.push_value(v, pos, n)?;
                }
                Event::UnresolvedAlias(name) => {
                    return Err(err(pos, format!("unknown alias *{name}")));
                }
                Event::Anchor(..) => {}
                #[allow(unreachable_patterns)]
                Event::Scalar(s, style, anchor, tag) => {
                    let tag_suffix = tag
                        .as_ref()
                        .map(|t| t.core_suffix().unwrap_or("").to_string());
                    // `None`: the scalar is the string `s` itself, moved out below.
                    let typed = self.scalar(&s, style, tag_suffix.as_deref(), pos)?;
                    if self.is_key_slot() {
                        let key = match typed {
                            Some(Node::Null) => "null",
                            _ => &*s,
                        };
                        self.set_key(key, pos)?;
                        continue;
                    }
                    if typed.is_none() && style == ScalarStyle::Plain && tag_suffix.is_none() {
                        if let Some(why) = out_of_range(&s) {
                            return Err(err(
                                pos,
                                format!("{why} `{s}` is out of range; quote it if it is text"),
                            ));
                        }
                    }
                    let v = typed.unwrap_or_else(|| Node::String(s.into()));
                    if anchor != 0 {
                        self.anchors.insert(anchor, v.clone());
                    }
                    self.push_value(v, pos, 1)?;
                }
                Event::SequenceStart(_, anchor, _) => {
                    if self.is_key_slot() {
                        return Err(err(pos, "complex mapping keys are not supported"));
                    }
                    self.enter(pos)?;
                    // Pointers are needed only to record positions.
                    let ptr = if self.recording() {
                        self.child_ptr()
                    } else {
                        String::new()
                    };
                    self.stack.push(Frame::Seq {
                        start: self.items.len(),
                        anchor,
                        ptr,
                    });
                }
                Event::SequenceEnd => {
                    if let Some(Frame::Seq { start, anchor, .. }) = self.stack.pop() {
                        // Collected at its exact size (a drain knows its length).
                        let items: Box<[Node]> = self.items.drain(start..).collect();
                        self.doc_max_list = self.doc_max_list.max(items.len());
                        let v = Node::Array(items);
                        if anchor != 0 {
                            self.anchors.insert(anchor, v.clone());
                        }
                        self.push_value(v, pos, 0)?;
                    }
                }
                Event::MappingStart(_, anchor, _) => {
                    if self.is_key_slot() {
                        return Err(err(pos, "complex mapping keys are not supported"));
                    }
                    self.enter(pos)?;
                    // Pointers are needed only to record positions.
                    let ptr = if self.recording() {
                        self.child_ptr()
                    } else {
                        String::new()
                    };
                    self.stack.push(Frame::Map {
                        start: self.entries.len(),
                        key: None,
                        anchor,
                        ptr,
                        merges: Vec::new(),
                        wide: None,
                    });
                }
                Event::MappingEnd => {
                    if let Some(Frame::Map {
                        start,
                        anchor,
                        merges,
                        ..
                    }) = self.stack.pop()
                    {
                        // Built once at its exact size from the shared entry stack: most maps
                        // here have 1-4 keys (node.rs).
                        let mut entries: Vec<(Key, Node)> = self.entries.drain(start..).collect();
                        if !merges.is_empty() {
                            entries = merge_into(entries, merges).map_err(|m| err(pos, m))?;
                        }
                        let v = Node::Object(NodeMap::new(entries));
                        if anchor != 0 {
                            self.anchors.insert(anchor, v.clone());
                        }
                        self.push_value(v, pos, 0)?;
                    }
                }
                #[allow(unreachable_patterns)]
                _ => {}
            }
        }
        Ok(())
    }

    fn enter(&mut self, pos: Pos) -> Result<(), YamlError> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(depth_err(pos, self.limits));
        }
        if self.recording() {
            let p = self.child_ptr();
            self.positions.entry(p).or_insert(pos);
        }
        if self.stack.is_empty() && self.doc_pos.is_none() {
            self.doc_pos = Some(pos);
        }
        Ok(())
    }

    fn is_key_slot(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }

    fn set_key(&mut self, key: &str, pos: Pos) -> Result<(), YamlError> {
        let key = crate::node::intern(&mut self.keys, key);
        let entries = &self.entries;
        if let Some(Frame::Map {
            start,
            key: slot,
            wide,
            ..
        }) = self.stack.last_mut()
        {
            // Until the mapping ends, its entries are exactly the explicit keys (merged ones
            // are added when it ends), so this is the duplicate check: a scan of a narrow
            // mapping, a hash set (constant time) once it is wide.
            if &*key != "<<" {
                let mine = &entries[*start..];
                let dup = match wide {
                    Some(set) => !set.insert(key.clone()),
                    None if mine.len() < LINEAR_KEYS => mine.iter().any(|(k, _)| *k == key),
                    None => {
                        let mut set: HashSet<Key> = mine.iter().map(|(k, _)| k.clone()).collect();
                        let dup = !set.insert(key.clone());
                        *wide = Some(set);
                        dup
                    }
                };
                if dup {
                    return Err(err(pos, format!("duplicate mapping key `{key}`")));
                }
            }
            *slot = Some(key);
        }
        if self.recording() {
            let p = format!("{}{KEY}", self.child_ptr());
            self.positions.entry(p).or_insert(pos);
        }
        Ok(())
    }

    fn push_value(&mut self, v: Node, pos: Pos, nodes: usize) -> Result<(), YamlError> {
        self.nodes += nodes;
        if self.nodes > self.limits.max_nodes {
            return Err(err(
                pos,
                format!("more than {} YAML nodes in one file", self.limits.max_nodes),
            ));
        }
        if nodes > 0 && self.recording() {
            // Collections record their position on entry; scalars and aliases here.
            let p = self.child_ptr();
            self.positions.entry(p).or_insert(pos);
        }
        match self.stack.last_mut() {
            None => {
                if self.doc_pos.is_none() {
                    self.doc_pos = Some(pos);
                }
                self.root = Some(v);
            }
            Some(Frame::Seq { .. }) => self.items.push(v),
            Some(Frame::Map { key, merges, .. }) => {
                if let Some(k) = key.take() {
                    if &*k == "<<" {
                        merges.push(v);
                    } else {
                        self.entries.push((k, v));
                    }
                }
            }
        }
        Ok(())
    }

    /// Types a scalar; `None` when it is the string `s` itself, so that the caller can move
    /// the parser's text into the value instead of copying it.
    fn scalar(
        &mut self,
        s: &str,
        style: ScalarStyle,
        tag: Option<&str>,
        pos: Pos,
    ) -> Result<Option<Node>, YamlError> {
        if let Some(tag) = tag {
            return Ok(match tag {
                "int" => Some(
                    s.parse::<i64>()
                        .map(|i| Node::Number(i.into()))
                        .map_err(|_| err(pos, format!("`{s}` is not an !!int")))?,
                ),
                "bool" => match s {
                    "true" | "True" | "TRUE" => Some(Node::Bool(true)),
                    "false" | "False" | "FALSE" => Some(Node::Bool(false)),
                    _ => return Err(err(pos, format!("`{s}` is not a !!bool"))),
                },
                "null" => Some(Node::Null),
                "float" => Some(
                    s.parse::<f64>()
                        .ok()
                        .and_then(Number::from_f64)
                        .map(Node::Number)
                        .ok_or_else(|| err(pos, format!("`{s}` is not a !!float")))?,
                ),
                // `!!str`, `!` and unknown tags: the text.
                _ => None,
            });
        }
        if style != ScalarStyle::Plain {
            return Ok(None);
        }
        let v = resolve_plain(s);
        if let Some(why) = yaml11_ambiguity(s, v.as_ref()) {
            self.warnings.push(YamlWarning {
                pos,
                message: format!(
                    "plain scalar `{s}` is {why} to Kubernetes' YAML 1.1 reader; quote it to be sure"
                ),
            });
        }
        Ok(v)
    }
}

/// Applies a mapping's merge keys (`<<`) to its explicit entries: explicit keys win, earlier
/// merge sources win over later ones, merged keys follow the explicit ones. The result is at
/// its exact size again.
fn merge_into(
    mut entries: Vec<(Key, Node)>,
    merges: Vec<Node>,
) -> Result<Vec<(Key, Node)>, &'static str> {
    let mut seen: HashSet<Key, foldhash::fast::FixedState> =
        entries.iter().map(|(k, _)| k.clone()).collect();
    for m in merges {
        let sources = match m {
            Node::Array(a) => a.into_vec(),
            other => vec![other],
        };
        for s in sources {
            let Node::Object(src) = s else {
                return Err("merge key `<<` needs a mapping");
            };
            for (k, v) in src.into_entries() {
                if seen.insert(k.clone()) {
                    entries.push((k, v));
                }
            }
        }
    }
    Ok(entries)
}

/// YAML 1.2 core schema resolution of a plain scalar; `None` for a string (`s` itself).
fn resolve_plain(s: &str) -> Option<Node> {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Node::Null),
        "true" | "True" | "TRUE" => return Some(Node::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Node::Bool(false)),
        _ => {}
    }
    let bytes = s.as_bytes();
    let first = bytes[0];
    if first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.' {
        if let Ok(i) = s.parse::<i64>() {
            return Some(Node::Number(i.into()));
        }
        if let Ok(u) = s.parse::<u64>() {
            return Some(Node::Number(u.into()));
        }
        if is_decimal_int(s) {
            // Too large for 64 bits: kept as text, and reported by `out_of_range`.
            return None;
        }
        if let Some(h) = s.strip_prefix("0x") {
            if let Ok(i) = i64::from_str_radix(h, 16) {
                return Some(Node::Number(i.into()));
            }
        }
        if let Some(o) = s.strip_prefix("0o") {
            if let Ok(i) = i64::from_str_radix(o, 8) {
                return Some(Node::Number(i.into()));
            }
        }
        let is_float = s.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c))
            && s.chars().any(|c| c.is_ascii_digit());
        if is_float {
            if let Ok(f) = s.parse::<f64>() {
                if let Some(n) = Number::from_f64(f) {
                    return Some(Node::Number(n));
                }
            }
        }
    }
    // Everything else, `.inf` and `.nan` included (JSON has no such numbers), is text.
    None
}

/// `[-+]?[0-9]+`: what the YAML 1.2 core schema reads as a decimal integer.
fn is_decimal_int(s: &str) -> bool {
    let d = s.strip_prefix(['-', '+']).unwrap_or(s);
    !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())
}

/// Names the kind of number a plain scalar is when YAML 1.2 reads it as a number that does
/// not fit in JSON (an integer beyond 64 bits, a float beyond f64); `None` otherwise. These
/// are errors: silently turning them into text or rounding them would change the object.
/// Only asked of plain scalars that YAML 1.2 read as text.
fn out_of_range(s: &str) -> Option<&'static str> {
    if is_decimal_int(s) {
        return Some("integer");
    }
    let float_syntax = s.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c))
        && s.chars().any(|c| c.is_ascii_digit());
    if float_syntax && s.parse::<f64>().is_ok_and(|f| !f.is_finite()) {
        return Some("number");
    }
    None
}

/// Explains how YAML 1.1 (sigs.k8s.io/yaml, the apply path) would read a plain scalar that
/// YAML 1.2 read as `v` (`None`: as text), when the two differ (https://yaml.org/type/).
fn yaml11_ambiguity(s: &str, v: Option<&Node>) -> Option<&'static str> {
    let Some(v) = v else {
        // Compared without lowering a copy: this runs on every plain string.
        let is = |words: [&str; 3]| words.iter().any(|w| s.eq_ignore_ascii_case(w));
        if is(["y", "yes", "on"]) {
            return Some("a boolean true");
        }
        if is(["n", "no", "off"]) {
            return Some("a boolean false");
        }
        // Binary integers and digits with `_` separators are numbers to YAML 1.1 only.
        let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
        if let Some(b) = digits.strip_prefix("0b") {
            if !b.is_empty() && b.bytes().all(|c| c == b'0' || c == b'1' || c == b'_') {
                return Some("a binary number");
            }
        }
        if digits.contains('_')
            && digits.starts_with(|c: char| c.is_ascii_digit())
            && digits
                .chars()
                .all(|c| c.is_ascii_digit() || c == '_' || c == '.')
        {
            return Some("a number");
        }
        // Sexagesimal numbers such as 1:30.
        if s.contains(':')
            && s.split(':')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
            && !s.starts_with('0')
        {
            return Some("a base-60 number");
        }
        return None;
    };
    if matches!(v, Node::Number(_))
        && s.len() > 1
        && s.starts_with('0')
        && s.chars().all(|c| c.is_ascii_digit())
    {
        return Some("an octal number");
    }
    // YAML 1.2's `0o` octal is not a number in YAML 1.1.
    if matches!(v, Node::Number(_)) && s.starts_with("0o") {
        return Some("a string, not a number,");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(t: &str) -> Result<Parsed, YamlError> {
        parse_stream(t, &YamlLimits::default())
    }

    #[test]
    fn split_documents_gives_the_parsers_documents() {
        let limits = YamlLimits::default();
        let texts = [
            "a: 1\n---\nb: 2\n",
            "---\na: 1\n---\nb: 2",
            "# head\n\n---\na: 1\n",
            "a: 1\n---\n---\nb: 2\n---\n",
            "a: |\n  x\n---\nb: 1\n",
            "|\nfoo\n---\nbar\n",
            "---\n# only a comment\n---\nc: 3\n",
            "key: 'multi\n  line'\n---\nz: 1\n",
            "a: \"open\n---\nb\"\n",
            "[a,\n---\nb]\n",
            "a:\n- 1\n---\n- x\n- y\n---\nyes: on\n",
            "",
            "---\n",
        ];
        for text in texts {
            let pieces = split_documents(text, &limits).unwrap();
            let whole = parse(text);
            let alone: Vec<_> = pieces
                .iter()
                .map(|p| (p, parse(&text[p.range.clone()])))
                .collect();
            let Ok(whole) = whole else {
                // A stream the parser rejects has a piece it rejects: the caller parses the
                // whole stream and reports its error.
                assert!(alone.iter().any(|(_, r)| r.is_err()), "{text:?}");
                continue;
            };
            let mut docs = Vec::new();
            let mut warnings = Vec::new();
            for (p, r) in alone {
                let r = r.unwrap_or_else(|e| panic!("{text:?}: {e:?}"));
                assert!(p.index.is_some() || r.documents.is_empty(), "{text:?}");
                let line = |pos: Pos| Pos {
                    line: pos.line - 1 + p.line,
                    column: pos.column,
                };
                for d in r.documents {
                    assert_eq!(d.index, 0, "{text:?}");
                    docs.push((p.index.unwrap(), line(d.pos), d.value, d.max_list));
                }
                warnings.extend(r.warnings.into_iter().map(|w| (line(w.pos), w.message)));
            }
            let want: Vec<_> = whole
                .documents
                .into_iter()
                .map(|d| (d.index, d.pos, d.value, d.max_list))
                .collect();
            assert_eq!(docs, want, "{text:?}");
            let want: Vec<_> = whole
                .warnings
                .into_iter()
                .map(|w| (w.pos, w.message))
                .collect();
            assert_eq!(warnings, want, "{text:?}");
        }
        let p = split_documents("# c\n---\na: 1\n---\nb: 2\n", &limits).unwrap();
        let got: Vec<_> = p.iter().map(|p| (p.line, p.end_line, p.index)).collect();
        assert_eq!(got, [(1, 2, None), (3, 4, Some(0)), (5, 6, Some(1))]);
    }

    #[test]
    fn document_starts_from_the_split_locate_as_a_full_parse_does() {
        let limits = YamlLimits::default();
        for text in [
            "a: {b: 1}\n---\n# c\nx:\n  y: [1, 2]\n---\n---\nz: 3\n",
            "a: {b: 1}\n---\n# c\nx:\n  y: [1, 2]\n---\nq: 0\n---\nz: 3\n",
            "# lead\n---\nk: v\nl:\n  - m: 1\n",
            "a: 1\n",
        ] {
            assert!(split_documents(text, &limits).is_some(), "{text:?}");
            let starts = document_starts(text, &limits);
            for d in parse_stream(text, &limits).expect("parses").documents {
                let keys: Vec<String> = d
                    .value
                    .as_object()
                    .map(|m| m.keys().map(str::to_string).collect())
                    .unwrap_or_default();
                for k in keys {
                    let pointer = format!("/{k}");
                    assert_eq!(
                        locate_in(text, &starts, d.index, &pointer, &limits),
                        locate(text, d.index, &pointer, &limits),
                        "{text:?} {} {pointer}",
                        d.index
                    );
                }
            }
        }
    }

    #[test]
    fn split_documents_declines_what_it_cannot_split_surely() {
        let limits = YamlLimits::default();
        for text in [
            "%YAML 1.2\n---\na: 1\n",
            "a: 1\n...\n---\nb: 2\n",
            "--- |\n  x\n",
            "--- # comment\na: 1\n",
            "a: &x 1\nb: *x\n",
            "a: 1\r\n---\r\nb: 2\r\n",
            "\u{feff}a: 1\n",
        ] {
            assert_eq!(split_documents(text, &limits), None, "{text:?}");
        }
        let tight = YamlLimits {
            max_documents: 2,
            ..limits
        };
        assert_eq!(
            split_documents("a: 1\n---\nb: 2\n---\nc: 3\n", &tight),
            None
        );
        let tiny = YamlLimits {
            max_nodes: 4,
            ..limits
        };
        assert_eq!(split_documents("a: 1\nb: 2\n", &tiny), None);
    }

    #[test]
    fn each_document_knows_its_longest_list() {
        let p = parse(
            "a: [1, 2, 3]\nb: {c: [[1, 2, 3, 4], []]}\n---\nx: &l [1, 2]\ny: *l\n---\nk: v\n",
        )
        .unwrap();
        let got: Vec<usize> = p.documents.iter().map(|d| d.max_list).collect();
        assert_eq!(got, [4, 2, 0]);
        for d in &p.documents {
            assert_eq!(d.max_list, crate::manifest::max_list(&d.value));
        }
    }

    #[test]
    fn event_count_counts_every_event_and_fails_like_parse() {
        // StreamStart, DocumentStart, MappingStart, two scalars (`a`, `1`), MappingEnd,
        // DocumentEnd, StreamEnd.
        assert_eq!(event_count("a: 1\n", &YamlLimits::default()), Ok(8));
        let bad = "a: [1\n";
        let e = event_count(bad, &YamlLimits::default()).unwrap_err();
        assert_eq!(Err(e), parse(bad).map(|_| ()));
    }

    /// A block mapping's value starts on the line after its key; `locate_key_in` gives the
    /// key's line, `locate_in` the value's, and both fall back alike.
    #[test]
    fn keys_are_located_on_their_own_line() {
        let text = "a: 1\n---\nspec:\n  port:\n    number: 80\n  name: x\n";
        let l = YamlLimits::default();
        let starts = document_starts(text, &l);
        let at = |p: Option<Pos>| p.map(|p| (p.line, p.column));
        assert_eq!(
            at(locate_key_in(text, &starts, 1, "/spec/port", &l)),
            Some((4, 3))
        );
        assert_eq!(
            at(locate_in(text, &starts, 1, "/spec/port", &l)),
            Some((5, 5))
        );
        assert_eq!(
            at(locate_key_in(text, &starts, 1, "/spec/name", &l)),
            Some((6, 3))
        );
        assert_eq!(
            at(locate_key_in(text, &starts, 1, "/spec/nope", &l)),
            Some((4, 3))
        );
    }

    #[test]
    fn multi_document_with_positions_and_empty_docs() {
        let p = parse("# c\na: 1\n---\n---\nb: [x, y]\n---\n").unwrap();
        assert_eq!(p.documents.len(), 2);
        assert_eq!(p.documents[0].pos, Pos { line: 2, column: 1 });
        assert_eq!(p.documents[1].index, 2);
        assert_eq!(p.documents[1].pos.line, 5);
        assert_eq!(p.documents[1].value["b"][1], "y");
    }

    #[test]
    fn scalars_follow_yaml_1_2_and_warn_on_1_1() {
        let p = parse("a: on\nb: 0755\nc: '0755'\nd: 1.10\ne: true\nf: ~\ng: 12\n").unwrap();
        let v = &p.documents[0].value;
        assert_eq!(v["a"], "on");
        assert_eq!(v["b"], 755);
        assert_eq!(v["c"], "0755");
        assert_eq!(v["e"], true);
        assert!(v["f"].is_null());
        assert_eq!(v["g"], 12);
        assert_eq!(p.warnings.len(), 2, "{:?}", p.warnings);
        assert_eq!(p.warnings[0].pos.line, 1);
        assert_eq!(p.warnings[1].pos.line, 2);
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let p = parse("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\nlist: [*b]\n").unwrap();
        let v = &p.documents[0].value;
        assert_eq!(v["use"]["x"], 1);
        assert_eq!(v["use"]["y"], 3);
        assert_eq!(v["list"][0]["y"], 2);
    }

    #[test]
    fn duplicate_keys_are_errors_at_the_duplicate() {
        let e = parse("metadata:\n  name: a\n  name: b\n").unwrap_err();
        assert_eq!(e.pos.line, 3);
        assert!(e.message.contains("duplicate mapping key `name`"));
    }

    #[test]
    fn alias_bomb_is_bounded() {
        let mut t = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = (b'a' + i - 1) as char;
            let cur = (b'a' + i) as char;
            t.push_str(&format!(
                "{cur}: &{cur} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        let e = parse(&t).unwrap_err();
        assert!(e.message.contains("alias expansion"), "{}", e.message);
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let t = "[".repeat(10_000) + &"]".repeat(10_000);
        assert!(parse(&t).is_err());
    }

    #[test]
    fn syntax_error_has_position() {
        let e = parse("a: 1\nb:\n  c: 1\n   d: 2\n").unwrap_err();
        assert_eq!(e.pos.line, 4, "{e:?}");
    }

    #[test]
    fn locate_finds_fields_in_the_right_document() {
        let t = "a: 1\n---\nspec:\n  ports:\n  - number: 80\n  - number: http\n";
        let pos = locate(t, 1, "/spec/ports/1/number", &YamlLimits::default()).unwrap();
        assert_eq!(
            pos,
            Pos {
                line: 6,
                column: 13
            }
        );
        let pos = locate(t, 1, "/spec/ports/7", &YamlLimits::default()).unwrap();
        assert_eq!(pos.line, 5);
    }

    #[test]
    fn emitted_yaml_quotes_yaml_1_1_words() {
        let v: Value = serde_json::json!({"on": "yes", "mode": "0755", "n": "NO", "x": 1});
        let s = to_string(&v).unwrap();
        assert!(s.contains("\"on\": \"yes\""), "{s}");
        assert!(s.contains("\"0755\""), "{s}");
        let back = parse(&s).unwrap();
        assert_eq!(back.documents[0].value, v);
    }

    #[test]
    fn numbers_beyond_64_bits_are_errors_not_rounded() {
        let e = parse("a: 99999999999999999999999999999999\n").unwrap_err();
        assert!(e.message.contains("integer"), "{}", e.message);
        assert_eq!(e.pos, Pos { line: 1, column: 4 });
        let e = parse("a: 1e400\n").unwrap_err();
        assert!(e.message.contains("out of range"), "{}", e.message);
        // u64 still fits; quoted digits and huge keys stay text.
        let p = parse(
            "a: 18446744073709551615\nb: '99999999999999999999999'\n99999999999999999999999: x\n",
        )
        .unwrap();
        let v = &p.documents[0].value;
        assert_eq!(v["a"], serde_json::json!(18446744073709551615u64));
        assert_eq!(v["b"], "99999999999999999999999");
        assert_eq!(v["99999999999999999999999"], "x");
    }

    #[test]
    fn more_yaml_1_1_numbers_warn() {
        let p = parse("a: 0o17\nb: 0b101\nc: 1_000\nd: v1_2\n").unwrap();
        let v = &p.documents[0].value;
        assert_eq!(v["a"], 15);
        assert_eq!(v["b"], "0b101");
        assert_eq!(v["c"], "1_000");
        let lines: Vec<u32> = p.warnings.iter().map(|w| w.pos.line).collect();
        assert_eq!(lines, vec![1, 2, 3], "{:?}", p.warnings);
    }

    #[test]
    fn depth_errors_name_the_limit() {
        for t in ["[".repeat(100), "- ".repeat(100) + "x"] {
            let e = parse(&t).unwrap_err();
            assert!(e.message.contains("limits.yamlDepth"), "{}", e.message);
        }
    }

    #[test]
    fn wide_mappings_parse_in_linear_time() {
        // 200,000 keys: with a quadratic duplicate check this took hours.
        let mut t = String::from("m:\n");
        for i in 0..200_000 {
            t.push_str(&format!("  k{i}: v\n"));
        }
        t.push_str("  k7: again\n");
        let e = parse(&t).unwrap_err();
        assert!(
            e.message.contains("duplicate mapping key `k7`"),
            "{}",
            e.message
        );
        assert_eq!(e.pos.line, 200_002);
    }

    #[test]
    fn locate_in_matches_locate() {
        let t = "\u{feff}# c\na: 1\n---\n---\nspec:\n  x: [1, {y: 2}]\n...\nb:\n  c: d\n";
        let l = YamlLimits::default();
        let starts = document_starts(t, &l);
        for (i, p) in [
            (0, "/a"),
            (2, "/spec/x/1/y"),
            (2, "/spec/z"),
            (3, "/b/c"),
            (9, "/q"),
        ] {
            assert_eq!(
                locate_in(t, &starts, i, p, &l),
                locate(t, i, p, &l),
                "{i} {p}"
            );
        }
        assert_eq!(locate_in(t, &starts, 3, "/b/c", &l).unwrap().line, 9);
    }

    #[test]
    fn bom_and_crlf() {
        let p = parse("\u{feff}a: 1\r\nb: two\r\n").unwrap();
        assert_eq!(p.documents[0].value["b"], "two");
    }
}

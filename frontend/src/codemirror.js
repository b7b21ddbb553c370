// The parts of CodeMirror 6 the playground page uses, bundled as the global `CM`
// (engine/tooling/playground/static/codemirror.js). Rebuild: `make playground-bundle`.
export { basicSetup } from "codemirror";
export { EditorView, Decoration, keymap } from "@codemirror/view";
export { EditorState, StateEffect, StateField } from "@codemirror/state";
export { yaml } from "@codemirror/lang-yaml";
export { json } from "@codemirror/lang-json";

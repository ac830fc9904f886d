// Node (tests, the server peer): importing the full-fat entry point initialises the WebAssembly module
// that `@automerge/automerge/slim` (used by lib/crdt) shares, synchronously, from the package's files.
import '@automerge/automerge';

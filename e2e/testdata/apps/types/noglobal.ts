// Must NOT type-check (e2e/package_test.go expects error TS2353): without
// wasm-eventsource/global, lib.dom's EventSource takes no `method`. This
// proves the augmentation is what makes global.ts compile.
new EventSource("/api/chat", { method: "POST" });
export {};

// A plain webpack 5 production build: the package's
// new URL("./eventsource.wasm", import.meta.url) becomes an emitted asset and
// its static import of wasm_exec.js is bundled; no loader or plugin needed.
import { fileURLToPath } from "node:url";

export default {
  mode: "production",
  entry: "./src/index.js",
  output: {
    path: fileURLToPath(new URL("./dist", import.meta.url)),
    filename: "main.js",
    clean: true,
  },
  // The engine is one 2 MB .wasm asset: not a bundle to split.
  performance: { maxAssetSize: 4 << 20 },
};

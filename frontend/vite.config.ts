/// <reference types="vitest/config" />
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

const OUT_DIR = fileURLToPath(new URL("../src/invite_service/ui", import.meta.url));
const require = createRequire(import.meta.url);

// Redoc's sidebar footer loads its logo from the vendor's CDN; offline that is a failed request (and,
// online, a request to a third party). The footer hides the image when it fails to load, so the copy
// points it at an empty inline image instead of the CDN.
const REDOC_CDN_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg";
const EMPTY_SVG = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E";

/** `/docs` and `/redoc` work without internet (main.py: custom docs routes): the Swagger UI and Redoc
 * files of the pinned npm packages (package.json: swagger-ui-dist, redoc) are copied next to the UI,
 * under docs-assets/, at every build. */
function apiDocsAssets(): Plugin {
  return {
    name: "api-docs-assets",
    apply: "build",
    closeBundle() {
      const out = join(OUT_DIR, "docs-assets");
      const swagger = dirname(require.resolve("swagger-ui-dist/package.json"));
      const redoc = dirname(require.resolve("redoc/package.json"));
      mkdirSync(join(out, "swagger-ui"), { recursive: true });
      mkdirSync(join(out, "redoc"), { recursive: true });
      for (const name of ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "LICENSE", "NOTICE"]) {
        copyFileSync(join(swagger, name), join(out, "swagger-ui", name));
      }
      const bundle = readFileSync(join(redoc, "bundles", "redoc.standalone.js"), "utf8");
      if (!bundle.includes(REDOC_CDN_LOGO)) {
        // A new Redoc release moved its logo: look at what it loads before pinning it.
        this.warn(`redoc.standalone.js no longer names ${REDOC_CDN_LOGO}; check it loads nothing from a CDN`);
      }
      writeFileSync(join(out, "redoc", "redoc.standalone.js"), bundle.replaceAll(REDOC_CDN_LOGO, EMPTY_SVG));
      copyFileSync(join(redoc, "LICENSE"), join(out, "redoc", "LICENSE"));
    },
  };
}

// The service serves the build from src/invite_service/ui at "/" (main.py); `base: "./"` keeps the
// assets relative so the same build also works behind the gateway under a path prefix.
export default defineConfig({
  base: "./",
  plugins: [react(), apiDocsAssets()],
  build: {
    outDir: "../src/invite_service/ui", // = OUT_DIR
    emptyOutDir: true,
    chunkSizeWarningLimit: 900,
    reportCompressedSize: true,
  },
  server: {
    // `npm run dev`: the API of a local `make run` (override with INVITE_API).
    proxy: { "/api": process.env.INVITE_API ?? "http://127.0.0.1:8002" },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    css: false,
    include: ["src/**/*.test.{ts,tsx}"],
    // Typing-driven tests take seconds of jsdom work; on a busy CI box the 5 s default is a coin toss.
    // Each test still waits on what it checks (findBy…/waitFor), so a longer ceiling costs nothing.
    testTimeout: 30_000,
  },
});

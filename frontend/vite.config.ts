/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The service serves the build from src/invite_service/ui at "/" (main.py); `base: "./"` keeps the
// assets relative so the same build also works behind the gateway under a path prefix.
export default defineConfig({
  base: "./",
  plugins: [react()],
  build: {
    outDir: "../src/invite_service/ui",
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

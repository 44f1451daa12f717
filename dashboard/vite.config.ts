import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Relative asset paths: dist/ is served from any origin or path (make dev's server, CloudFront).
export default defineConfig({
  base: "./",
  plugins: [react()],
  build: { outDir: "dist", sourcemap: false, target: "es2020" },
});

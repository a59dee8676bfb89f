import type { Position } from "./issue-location.js";
import type { AppFormat } from "./model.js";
import type { ModuleLoader } from "./module-loader.js";

/** How an app is loaded: what every loader (native and foreign) is given. */
export interface LoadAppOptions {
  /** Overrides the config's `stage`. */
  stage?: string;
  /** The region the run is for, when chosen (Serverless `${opt:region}`); else the source's. */
  region?: string;
  /** Builds and imports TypeScript configs, handlers and schema modules. */
  loader: ModuleLoader;
  /**
   * Called with the functions' environment (the app's, then every route's) before any handler
   * module is imported, so code that reads `process.env` at module top level sees it (in-process).
   */
  beforeImport?: (environment: Record<string, string>) => void;
  /**
   * Values of the native config's `secrets` (dev: the environment and `.env` files). Given, a
   * missing secret is a config issue naming where it was looked for, and the values join the
   * functions' environment; absent (validate, build), secrets are names only.
   */
  secrets?: (names: readonly string[], where: { stage: string; root: string }) => SecretLookup;
}

/** What a {@link LoadAppOptions.secrets} lookup found. */
export interface SecretLookup {
  values: Record<string, string>;
  /** Each secret without a value, and the places it was looked for. */
  missing: Array<{ name: string; lookedIn: string[] }>;
}

/** Where an already-parsed config came from; `positions` locates YAML/JSON issues. */
export interface ConfigSource {
  file: string;
  format: AppFormat;
  positions?: (path: (string | number)[]) => Position | undefined;
}

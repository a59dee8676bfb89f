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
}

/** Where an already-parsed config came from; `positions` locates YAML/JSON issues. */
export interface ConfigSource {
  file: string;
  format: AppFormat;
  positions?: (path: (string | number)[]) => Position | undefined;
}

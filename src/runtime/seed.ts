/** What a seed (`seed: "file#export"`) is called with, in dev and after deploy alike. */
export interface SeedInput {
  /** The stage being served or deployed. */
  stage: string;
  /** Each declared table's physical name, by its name in the config. */
  tables: Record<string, string>;
}

/**
 * A seed function: runs once the app is loaded in `switchboard dev` and after a deploy that
 * changes it. It may run more than once against the same tables, so it must be idempotent
 * (put fixed keys, or write only when absent).
 *
 * @example
 * ```ts
 * export const seed: Seed = async ({ tables }) => {
 *   await tableClient("notes").put({ room: "lobby", id: "welcome", text: "Hello" });
 * };
 * ```
 */
export type Seed = (input: SeedInput) => unknown | Promise<unknown>;

// Scenario 4: fan-out to every registered connection, 64 sends at a time.
import { readFileSync } from "node:fs";
import { managementEndpoint, registry } from "../shared.mjs";

export async function handler(event) {
  let ids = [];
  try {
    ids = readFileSync(registry, "utf8").split("\n").filter(Boolean);
  } catch {}
  let next = 0;
  const lane = async () => {
    while (next < ids.length) {
      const id = ids[next++];
      await fetch(`${managementEndpoint}/@connections/${id}`, {
        method: "POST",
        body: event.body,
      }).catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: Math.min(64, ids.length) }, lane));
  return { statusCode: 200 };
}

// Scenario 2: Architect's own send helper (arc.ws.send -> aws-lite PostToConnection).
import arc from "@architect/functions";

export async function handler(event) {
  await arc.ws.send({ id: event.requestContext.connectionId, payload: event.body });
  return { statusCode: 200 }; // returning nothing makes Sandbox send an error frame
}

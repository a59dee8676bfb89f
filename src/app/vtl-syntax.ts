import { parse } from "velocityjs";

/**
 * Why a VTL mapping template does not parse (velocityjs's first line), or undefined when it
 * does: loaders report it at the template, so a typo fails the load, not a client's message.
 */
export function vtlSyntaxProblem(template: string): string | undefined {
  try {
    parse(template);
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return message.replace(/\s*\n\s*/g, " ").slice(0, 200);
  }
}

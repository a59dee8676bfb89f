/**
 * Wait for `work`, but not past `deadline` (epoch ms): resolves at whichever comes first and
 * never rejects. For shutdown, where a slow handler must not hold the stop.
 */
export function waitUntil(work: Promise<unknown>, deadline: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    work.then(done, done);
  });
}

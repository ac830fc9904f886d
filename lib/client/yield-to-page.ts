// Gives the page a turn (input, rendering) in the middle of long work. scheduler.yield() keeps this
// task's place ahead of others where the browser has it; a message-channel round trip is the
// fallback (setTimeout(0) is clamped to 4 ms after a few nestings).
export function yieldToPage(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler;
  if (typeof scheduler?.yield === 'function') return scheduler.yield();
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

// The `lesson` message's round trips. The session answers its messages in order, so the
// oldest request still waiting is the one a `lesson` reply (or an `error` about "lesson") answers.

export function createLessons(send) {
  const waiting = [];
  return {
    /** ask(chapter, request) → Promise of the chapter's result; rejects with the server's message. */
    ask(chapter, request) {
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        send({ type: "lesson", chapter, request });
      });
    },
    /** Take a server message if it answers a lesson; true when it did. */
    receive(msg) {
      if (msg.type === "lesson") {
        waiting.shift()?.resolve(msg.result);
        return true;
      }
      if (msg.type === "error" && msg.about === "lesson") {
        waiting.shift()?.reject(new Error(msg.message));
        return true;
      }
      return false;
    },
    /** A new session (the socket reconnected): the old one will never answer. */
    drop(reason) {
      for (const w of waiting.splice(0)) w.reject(new Error(reason));
    },
  };
}

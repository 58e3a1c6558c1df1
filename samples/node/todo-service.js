// In-memory todo storage with the tutorial's ownership rules.
import { randomInt } from 'node:crypto';

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export class TodoService {
  #todos = [];

  create(content, ownerId) {
    const id = Array.from({ length: 8 }, () => ID_ALPHABET[randomInt(ID_ALPHABET.length)]).join('');
    const todo = { id, content, ownerId, createdAt: new Date().toISOString() };
    this.#todos.push(todo);
    return todo;
  }

  /** The caller's todos, or everyone's when `allOwners`. */
  list(ownerId, { allOwners = false } = {}) {
    return this.#todos.filter((todo) => allOwners || todo.ownerId === ownerId);
  }

  /** Deletes a todo the caller owns (any todo when `anyOwner`); undefined if there is none. */
  delete(id, ownerId, { anyOwner = false } = {}) {
    const index = this.#todos.findIndex((todo) => todo.id === id && (anyOwner || todo.ownerId === ownerId));
    return index === -1 ? undefined : this.#todos.splice(index, 1)[0];
  }
}

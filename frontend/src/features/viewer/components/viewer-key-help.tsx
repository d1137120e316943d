import { FRAME_KEYS, type KeyHelp, VIEWER_KEYS } from '../utils/viewer-keys';

const keyName = (key: string) => (key === ' ' ? 'Space' : key);

function KeyRows({ entries }: { entries: readonly KeyHelp[] }) {
  return entries.map((entry) => (
    <tr key={entry.keys.join(' ')}>
      <th scope="row">
        {entry.keys.map((key, index) => (
          <span key={key}>
            {index > 0 && ' '}
            <kbd>{keyName(key)}</kbd>
          </span>
        ))}
      </th>
      <td>{entry.does}</td>
    </tr>
  ));
}

/** The hotkeys, listed from the table the key handler reads, so the two never disagree. */
export function ViewerKeyHelp({ id, onClose }: { id: string; onClose: () => void }) {
  return (
    <section id={id} className="viewer-key-help" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>Viewer keys</h2>
      <table>
        <caption className="muted">Anywhere on the page but in a text field:</caption>
        <tbody>
          <KeyRows entries={VIEWER_KEYS} />
        </tbody>
      </table>
      <table>
        <caption className="muted">With the image selected (Tab to it):</caption>
        <tbody>
          <KeyRows entries={FRAME_KEYS} />
        </tbody>
      </table>
      <button type="button" className="button-secondary" onClick={onClose}>
        Close
      </button>
    </section>
  );
}

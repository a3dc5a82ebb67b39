/** A count with its meaning for screen readers ("3" is shown, "3 unread" is read). */
export function Badge({
  count,
  label,
  className = 'badge',
}: {
  count: number;
  label: string;
  className?: string;
}) {
  return (
    <span className={className}>
      <span aria-hidden="true">{count}</span>
      <span className="visually-hidden">{label}</span>
    </span>
  );
}

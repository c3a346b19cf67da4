// The emoji the composers' pickers offer (widget and console): common ones, in a fixed order,
// 5 rows of 8. Plain characters; no library, nothing fetched.

export const EMOJI = [
  "😀", "😂", "😊", "😍", "🥰", "😉", "😎", "🤩",
  "🙂", "😅", "🤔", "😐", "😕", "😢", "😭", "😡",
  "😮", "😴", "🙄", "🤗", "🙏", "👍", "👎", "👌",
  "👏", "🙌", "👋", "💪", "🤝", "✌️", "❤️", "💔",
  "🔥", "⭐", "🎉", "✅", "❌", "⚠️", "📦", "💡",
];

/** How many emoji a row of the grid holds (arrow keys Up/Down move by this). */
export const EMOJI_COLUMNS = 8;

-- Posts per category
SELECT coalesce(category, 'Uncategorized') AS category, count(*) AS posts
FROM posts
GROUP BY ALL
ORDER BY posts DESC, category

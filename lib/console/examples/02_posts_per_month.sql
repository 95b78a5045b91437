-- Posts per month
SELECT date_trunc('month', published) AS month, count(*) AS posts
FROM posts
WHERE published IS NOT NULL
GROUP BY ALL
ORDER BY month

output "edge_https_url" {
  description = "URL of endpoint https of edge"
  value = "https://${aws_lb.edge.dns_name}:8443"
}

output "cluster_name" {
  description = "the ECS cluster"
  value = aws_ecs_cluster.main.name
}

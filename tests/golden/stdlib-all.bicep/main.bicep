// Azure Container Apps deployment of stdlib-all, written by aspirec.
// Deploy: az deployment group create -g GROUP -f main.bicep -p main.parameters.json

@description('Azure region of every resource')
param location string = resourceGroup().location

@description('parameter pg-password: Password of the PostgreSQL superuser (generated in run mode and compose: give a random value of 22 characters)')
@secure()
param pg_password string

@description('parameter bus-password: Password of the RabbitMQ default user (generated in run mode and compose: give a random value of 22 characters)')
@secure()
param bus_password string

@description('parameter legacy-password: Password of the MariaDB root user (generated in run mode and compose: give a random value of 22 characters)')
@secure()
param legacy_password string

@description('Container image of project \'api\' (built from its build context and pushed to a registry)')
param api_image string

@description('Container image of project \'ui\' (built from its build context and pushed to a registry)')
param ui_image string

// A name part unique to the resource group.
var resourceToken = toLower(uniqueString(resourceGroup().id))

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${resourceToken}'
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource containerAppsEnvironment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: 'cae-${resourceToken}'
  location: location
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logAnalytics.properties.customerId
        sharedKey: logAnalytics.listKeys().primarySharedKey
      }
    }
  }
}

resource app_pg 'Microsoft.App/containerApps@2024-03-01' = {
  name: 'pg'
  location: location
  properties: {
    environmentId: containerAppsEnvironment.id
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: false
        targetPort: 5432
        transport: 'tcp'
        exposedPort: 5432
      }
      secrets: [
        {
          name: 'postgres-password'
          value: pg_password
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'pg'
          image: 'docker.io/library/postgres:16.4'
          env: [
            {
              name: 'POSTGRES_HOST_AUTH_METHOD'
              value: 'scram-sha-256'
            }
            {
              name: 'POSTGRES_INITDB_ARGS'
              value: '--auth-host=scram-sha-256 --auth-local=scram-sha-256'
            }
            {
              name: 'POSTGRES_USER'
              value: 'postgres'
            }
            {
              name: 'POSTGRES_PASSWORD'
              secretRef: 'postgres-password'
            }
          ]
          probes: [
            {
              type: 'Readiness'
              tcpSocket: {
                port: 5432
              }
              periodSeconds: 2
              timeoutSeconds: 2
              failureThreshold: 10
            }
          ]
        }
      ]
      scale: {
        minReplicas: 1
        maxReplicas: 1
      }
    }
  }
}

resource app_cache 'Microsoft.App/containerApps@2024-03-01' = {
  name: 'cache'
  location: location
  properties: {
    environmentId: containerAppsEnvironment.id
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: false
        targetPort: 6379
        transport: 'tcp'
        exposedPort: 6379
      }
    }
    template: {
      containers: [
        {
          name: 'cache'
          image: 'docker.io/library/redis:7.4.1'
          probes: [
            {
              type: 'Readiness'
              tcpSocket: {
                port: 6379
              }
              periodSeconds: 2
              timeoutSeconds: 2
              failureThreshold: 10
            }
          ]
        }
      ]
      scale: {
        minReplicas: 1
        maxReplicas: 1
      }
    }
  }
}

resource app_bus 'Microsoft.App/containerApps@2024-03-01' = {
  name: 'bus'
  location: location
  properties: {
    environmentId: containerAppsEnvironment.id
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: false
        targetPort: 5672
        transport: 'tcp'
        exposedPort: 5672
      }
      secrets: [
        {
          name: 'rabbitmq-default-pass'
          value: bus_password
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'bus'
          image: 'docker.io/library/rabbitmq:3.13.7'
          env: [
            {
              name: 'RABBITMQ_DEFAULT_USER'
              value: 'guest'
            }
            {
              name: 'RABBITMQ_DEFAULT_PASS'
              secretRef: 'rabbitmq-default-pass'
            }
          ]
          probes: [
            {
              type: 'Readiness'
              tcpSocket: {
                port: 5672
              }
              periodSeconds: 2
              timeoutSeconds: 2
              failureThreshold: 10
            }
          ]
        }
      ]
      scale: {
        minReplicas: 1
        maxReplicas: 1
      }
    }
  }
}

resource app_legacy 'Microsoft.App/containerApps@2024-03-01' = {
  name: 'legacy'
  location: location
  properties: {
    environmentId: containerAppsEnvironment.id
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: false
        targetPort: 3306
        transport: 'tcp'
        exposedPort: 3306
      }
      secrets: [
        {
          name: 'mariadb-root-password'
          value: legacy_password
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'legacy'
          image: 'docker.io/library/mariadb:11.4.3'
          env: [
            {
              name: 'MARIADB_ROOT_PASSWORD'
              secretRef: 'mariadb-root-password'
            }
          ]
          probes: [
            {
              type: 'Readiness'
              tcpSocket: {
                port: 3306
              }
              periodSeconds: 2
              timeoutSeconds: 2
              failureThreshold: 10
            }
          ]
        }
      ]
      scale: {
        minReplicas: 1
        maxReplicas: 1
      }
    }
  }
}

resource app_front 'Microsoft.App/containerApps@2024-03-01' = {
  name: 'front'
  location: location
  properties: {
    environmentId: containerAppsEnvironment.id
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: 80
        transport: 'http'
        allowInsecure: true
      }
    }
    template: {
      containers: [
        {
          name: 'front'
          image: 'docker.io/library/nginx:1.27.3'
          probes: [
            {
              type: 'Readiness'
              httpGet: {
                path: '/'
                port: 80
              }
              periodSeconds: 2
              timeoutSeconds: 2
              failureThreshold: 10
            }
          ]
        }
      ]
      scale: {
        minReplicas: 1
        maxReplicas: 1
      }
    }
  }
}

resource app_api 'Microsoft.App/containerApps@2024-03-01' = {
  name: 'api'
  location: location
  properties: {
    environmentId: containerAppsEnvironment.id
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: false
        targetPort: 8080
        transport: 'http'
        allowInsecure: true
      }
      secrets: [
        {
          name: 'connectionstrings-orders'
          value: 'Host=pg;Port=5432;Username=postgres;Password=${pg_password};Database=orders'
        }
        {
          name: 'connectionstrings-users'
          value: 'Host=pg;Port=5432;Username=postgres;Password=${pg_password};Database=users'
        }
        {
          name: 'connectionstrings-bus'
          value: 'amqp://guest:${bus_password}@bus:5672'
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'api'
          image: api_image
          env: [
            {
              name: 'PYTHONUNBUFFERED'
              value: '1'
            }
            {
              name: 'PORT'
              value: '8080'
            }
            {
              name: 'ConnectionStrings__orders'
              secretRef: 'connectionstrings-orders'
            }
            {
              name: 'ORDERS_HOST'
              value: 'pg'
            }
            {
              name: 'ORDERS_PORT'
              value: '5432'
            }
            {
              name: 'ConnectionStrings__users'
              secretRef: 'connectionstrings-users'
            }
            {
              name: 'USERS_HOST'
              value: 'pg'
            }
            {
              name: 'USERS_PORT'
              value: '5432'
            }
            {
              name: 'ConnectionStrings__cache'
              value: 'cache:6379'
            }
            {
              name: 'services__cache__tcp__0'
              value: 'tcp://cache:6379'
            }
            {
              name: 'CACHE_TCP'
              value: 'tcp://cache:6379'
            }
            {
              name: 'CACHE_HOST'
              value: 'cache'
            }
            {
              name: 'CACHE_PORT'
              value: '6379'
            }
            {
              name: 'CACHE_URI'
              value: 'tcp://cache:6379'
            }
            {
              name: 'ConnectionStrings__bus'
              secretRef: 'connectionstrings-bus'
            }
            {
              name: 'services__bus__tcp__0'
              value: 'tcp://bus:5672'
            }
            {
              name: 'BUS_TCP'
              value: 'tcp://bus:5672'
            }
            {
              name: 'BUS_HOST'
              value: 'bus'
            }
            {
              name: 'BUS_PORT'
              value: '5672'
            }
            {
              name: 'BUS_URI'
              value: 'tcp://bus:5672'
            }
          ]
        }
      ]
      scale: {
        minReplicas: 1
        maxReplicas: 1
      }
    }
  }
  dependsOn: [
    app_pg
    app_cache
    app_bus
  ]
}

resource app_ui 'Microsoft.App/containerApps@2024-03-01' = {
  name: 'ui'
  location: location
  properties: {
    environmentId: containerAppsEnvironment.id
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: false
        targetPort: 8080
        transport: 'http'
        allowInsecure: true
      }
      secrets: [
        {
          name: 'connectionstrings-reports'
          value: 'Server=legacy;Port=3306;User ID=root;Password=${legacy_password};Database=reports'
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'ui'
          image: ui_image
          env: [
            {
              name: 'PORT'
              value: '8080'
            }
            {
              name: 'services__api__http__0'
              value: 'http://api:80'
            }
            {
              name: 'API_HTTP'
              value: 'http://api:80'
            }
            {
              name: 'API_HOST'
              value: 'api'
            }
            {
              name: 'API_PORT'
              value: '80'
            }
            {
              name: 'API_URI'
              value: 'http://api:80'
            }
            {
              name: 'ConnectionStrings__reports'
              secretRef: 'connectionstrings-reports'
            }
            {
              name: 'REPORTS_HOST'
              value: 'legacy'
            }
            {
              name: 'REPORTS_PORT'
              value: '3306'
            }
          ]
        }
      ]
      scale: {
        minReplicas: 1
        maxReplicas: 1
      }
    }
  }
  dependsOn: [
    app_api
  ]
}

output FRONT_HTTP_URL string = 'https://${app_front.properties.configuration.ingress.fqdn}'

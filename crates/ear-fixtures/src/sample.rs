//! The bundled sample: `testdata/shop.ear` and `testdata/shop-fix.zip`.
//!
//! `shop.ear` is a small but realistic Java EE 7 application: two web
//! modules, an EJB module, a resource adapter, utility jars in `lib/`, and
//! application-scope `.dat` files. `shop-fix.zip` is a partial update shaped
//! like the worked example of spec §4, with delete lists in the application
//! scope and in a web module.

use crate::{Method, ZipBuilder, class_bytes, zip_of};

/// The module URIs of the sample, for unpacking it into the expanded form.
pub const SHOP_MODULES: [&str; 4] = [
    "catalog.war",
    "payments.rar",
    "shop-ejb.jar",
    "storefront.war",
];

const APPLICATION_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<application xmlns="http://xmlns.jcp.org/xml/ns/javaee"
             xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
             xsi:schemaLocation="http://xmlns.jcp.org/xml/ns/javaee http://xmlns.jcp.org/xml/ns/javaee/application_7.xsd"
             version="7">
  <display-name>Shop</display-name>
  <!-- the customer-facing store -->
  <module>
    <web>
      <web-uri>storefront.war</web-uri>
      <context-root>/shop</context-root>
    </web>
  </module>
  <module>
    <web>
      <web-uri>catalog.war</web-uri>
      <context-root>/catalog</context-root>
    </web>
  </module>
  <module>
    <ejb>shop-ejb.jar</ejb>
  </module>
  <module>
    <connector>payments.rar</connector>
  </module>
  <library-directory>lib</library-directory>
</application>
"#;

const MANIFEST: &str = "Manifest-Version: 1.0\r\nCreated-By: earpatch sample generator\r\n\r\n";

fn web_xml(name: &str, version: u32) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<web-app xmlns=\"http://xmlns.jcp.org/xml/ns/javaee\" version=\"3.1\">\n  \
         <display-name>{name}</display-name>\n  <!-- revision {version} -->\n  <welcome-file-list><welcome-file>index.jsp</welcome-file></welcome-file-list>\n</web-app>\n"
    )
}

fn jar(classes: &[&str], revision: u32) -> Vec<u8> {
    let mut b = ZipBuilder::new().file("META-INF/MANIFEST.MF", MANIFEST);
    for class in classes {
        let mut bytes = class_bytes(class);
        bytes.extend_from_slice(format!("rev{revision}").as_bytes());
        b = b.file(class, bytes);
    }
    b.finish()
}

fn storefront_war() -> Vec<u8> {
    ZipBuilder::new()
        .file("META-INF/MANIFEST.MF", MANIFEST)
        .file("WEB-INF/web.xml", web_xml("storefront", 1))
        .file("WEB-INF/classes/com/acme/shop/web/CartServlet.class", class_bytes("CartServlet"))
        .file_with("WEB-INF/lib/shop-taglib.jar", jar(&["com/acme/shop/tags/PriceTag.class"], 1), Method::Store)
        .file("index.jsp", "<%@ page contentType=\"text/html\" %>\n<html><body>Welcome to the shop</body></html>\n")
        .file("cart.jsp", "<html><body>Your cart</body></html>\n")
        .file("css/shop.css", "body { font-family: sans-serif; }\n")
        .finish()
}

fn catalog_war() -> Vec<u8> {
    ZipBuilder::new()
        .file("META-INF/MANIFEST.MF", MANIFEST)
        .file("WEB-INF/web.xml", web_xml("catalog", 1))
        .file("WEB-INF/test.xmi", "<xmi:XMI xmi:version=\"2.0\"/>\n")
        .file(
            "WEB-INF/classes/com/acme/catalog/Search.class",
            class_bytes("Search"),
        )
        .file(
            "catalog/list.jsp",
            "<html><body>All products</body></html>\n",
        )
        .file(
            "catalog/sub/detail.jsp",
            "<html><body>One product</body></html>\n",
        )
        .file("catalog/index.html", "<html><body>Catalog</body></html>\n")
        .file("data/stock.dat", "sku,qty\nA-1,10\n")
        .finish()
}

fn shop_ejb_jar() -> Vec<u8> {
    ZipBuilder::new()
        .file("META-INF/MANIFEST.MF", MANIFEST)
        .file(
            "META-INF/ejb-jar.xml",
            "<?xml version=\"1.0\"?>\n<ejb-jar xmlns=\"http://xmlns.jcp.org/xml/ns/javaee\" version=\"3.2\"/>\n",
        )
        .file("com/acme/shop/OrderBean.class", class_bytes("OrderBean"))
        .file("com/acme/shop/OrderBean$1.class", class_bytes("OrderBean$1"))
        .finish()
}

fn payments_rar() -> Vec<u8> {
    ZipBuilder::new()
        .file("META-INF/MANIFEST.MF", MANIFEST)
        .file(
            "META-INF/ra.xml",
            "<?xml version=\"1.0\"?>\n<connector xmlns=\"http://xmlns.jcp.org/xml/ns/javaee\" version=\"1.7\"/>\n",
        )
        .file_with("payments-impl.jar", jar(&["com/acme/pay/Gateway.class"], 1), Method::Store)
        .finish()
}

/// The sample application, `testdata/shop.ear`.
#[must_use]
pub fn shop_ear() -> Vec<u8> {
    ZipBuilder::new()
        .file("META-INF/MANIFEST.MF", MANIFEST)
        .file("META-INF/application.xml", APPLICATION_XML)
        .file("storefront.war", storefront_war())
        .file("catalog.war", catalog_war())
        .file("shop-ejb.jar", shop_ejb_jar())
        .file("payments.rar", payments_rar())
        .file("lib/util.jar", jar(&["com/acme/util/Strings.class"], 1))
        .file(
            "lib/shop-common.jar",
            jar(&["com/acme/common/Money.class"], 1),
        )
        .file("config/prices.dat", "A-1;19.90\nB-2;5.00\n")
        .file("config/tax/rates.dat", "DE;0.19\nFR;0.20\n")
        .file("a.dat", "legacy\n")
        .file(
            "tools/migrate.jar",
            jar(&["com/acme/tools/Migrate.class"], 1),
        )
        .file(
            "legal/NOTICE.txt",
            "Shop sample, made by earpatch's generator.\n",
        )
        .finish()
}

/// The sample partial update, `testdata/shop-fix.zip` (spec §4 shape).
#[must_use]
pub fn shop_fix_zip() -> Vec<u8> {
    zip_of(&[
        ("lib/util.jar", &jar(&["com/acme/util/Strings.class"], 2)),
        (
            "META-INF/ibm-partialapp-delete.props",
            b"# application scope: drop every data file and the migration tool\n.*\\.dat\ntools/migrate\\.jar\n",
        ),
        ("shop-ejb.jar/com/acme/shop/OrderBean.class", &{
            let mut b = class_bytes("OrderBean");
            b.extend_from_slice(b"fixed");
            b
        }),
        ("storefront.war/welcome.jsp", b"<html><body>Welcome back</body></html>\n"),
        ("storefront.war/WEB-INF/web.xml", web_xml("storefront", 2).as_bytes()),
        (
            "catalog.war/META-INF/ibm-partialapp-delete.props",
            b"catalog/.*\\.jsp\nWEB-INF/test\\.xmi\n",
        ),
    ])
}
